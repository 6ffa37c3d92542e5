import { TestingModule } from '@nestjs/testing';
import { Job, Queue } from 'bullmq';
import { BackgroundJobs, InvalidJobInputError } from 'nestjs-background-jobs';
import { NotificationDatabase, NotificationReport, NotificationSeeder } from '../../apps/sample-app/src/domain';
import {
  activeSchedules,
  LEGACY_QUEUE,
  LEGACY_SCHEDULES,
  MIGRATED_JOBS,
  NOTIFICATIONS_QUEUE,
  PIPELINE_SCHEDULES,
} from '../../apps/sample-app/src/notification.schedules';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../support/redis';
import { DatabaseTarget, postgresTarget, startSampleApp } from './support/sample-app';

const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
const PIPELINE = [...PIPELINE_SCHEDULES].sort(byId);
const LEGACY = LEGACY_SCHEDULES.map(({ id, cron }) => ({ id, cron })).sort(byId);
/** The legacy schedulers additive mode runs beside the pipeline: every job's but the two that send. */
const ADDITIVE_LEGACY = [
  { id: 'notification-deadletter-cleanup', cron: '0 2 * * *' },
  { id: 'notification-retry-cleanup', cron: '0 2 * * *' },
  { id: 'notification-retry-expire', cron: '0 * * * *' },
  { id: 'campaign-cleanup', cron: '0 3 * * *' },
  { id: 'campaign-scheduler', cron: '* * * * *' },
  { id: 'tenant-daily-digest', cron: '55 23 * * *' },
].sort(byId);
const SENDING_JOBS = ['notification-retry-processor-pipeline', 'campaign-workflow-executor-pipeline'];

describe('the migration replayed on BullMQ: legacy → additive → exclusive → rollback of one job → forward again', () => {
  const target: DatabaseTarget = postgresTarget();
  let prefix: string;
  let app: TestingModule | undefined;
  let pipelineQueue: Queue;
  let legacyQueue: Queue;

  beforeEach(() => {
    prefix = randomPrefix('cutover');
    pipelineQueue = new Queue(NOTIFICATIONS_QUEUE, { connection: { url: testRedisUrl() }, prefix });
    legacyQueue = new Queue(LEGACY_QUEUE, { connection: { url: testRedisUrl() }, prefix });
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await pipelineQueue.close();
    await legacyQueue.close();
    await target.cleanup();
    await deletePrefix(prefix);
  });

  /** Scheduler ids and crons on a queue, as plain BullMQ reports them. */
  const schedulers = async (queue: Queue) =>
    (await queue.getJobSchedulers(0, -1)).map((s) => ({ id: s.key, cron: s.pattern as string })).sort(byId);

  /** One tick of a legacy scheduler: a job of its name on the legacy queue, run by the legacy processor. */
  const legacyTick = async (id: string): Promise<Job> => {
    const job = await legacyQueue.add(id, {});
    await waitFor(
      `the legacy processor to run ${id}`,
      async () => {
        const state = await job.getState();
        if (state === 'failed')
          throw new Error(`legacy ${id} failed: ${(await Job.fromId(legacyQueue, job.id as string))?.failedReason}`);
        return state === 'completed';
      },
      20_000,
    );
    return (await Job.fromId(legacyQueue, job.id as string)) as Job;
  };

  it('each phase has exactly its schedulers; side by side the two registrations add no duplicate send and no duplicate row', async () => {
    const database = await target.fresh();

    // 1. Before the migration: the hand-rolled registrations only, on their own queue.
    app = await startSampleApp({ database, prefix, mode: 'legacy' });
    expect(await schedulers(legacyQueue)).toEqual(LEGACY);
    expect(await schedulers(pipelineQueue)).toEqual([]);
    const seed = await app.get(NotificationSeeder).seedDemo();
    const legacyRun = await legacyTick('notification-retry-processor');
    expect(legacyRun.returnvalue).toMatchObject({ dispatched: seed.dueRetries - 1, failed: 1 });
    await app.close();

    // 2. Additive: the pipeline jobs, and beside them the legacy schedulers of the idempotent jobs.
    app = await startSampleApp({ database, prefix, mode: 'additive' });
    expect(await schedulers(pipelineQueue)).toEqual(PIPELINE);
    expect(await schedulers(legacyQueue)).toEqual(ADDITIVE_LEGACY);
    const jobs = app.get(BackgroundJobs);
    const db = app.get(NotificationDatabase);
    // One tick of every scheduler of both registrations at once, then the senders again for what the first round scheduled.
    const [pipelineRuns] = await Promise.all([
      Promise.all(PIPELINE.map(({ id }) => jobs.runNow(id, { waitTimeoutMs: 30_000 }))),
      Promise.all(ADDITIVE_LEGACY.map(({ id }) => legacyTick(id))),
    ]);
    expect(pipelineRuns.map((run) => [run.jobId, run.state])).toEqual(PIPELINE.map(({ id }) => [id, 'completed']));
    for (const id of SENDING_JOBS) expect((await jobs.runNow(id)).state).toBe('completed');
    // Two campaign schedulers raced for the same due campaigns: one execution per campaign and slot, not two.
    const executions = await db.query<{ n: number; per_campaign: number }>(
      'SELECT count(*)::int AS n, max(c)::int AS per_campaign FROM (SELECT campaign_id, count(*) AS c FROM campaign_executions GROUP BY campaign_id) x',
    );
    expect(executions.rows[0]).toEqual({ n: seed.dueCampaigns, per_campaign: 1 });
    // Two digests of the same day per tenant wrote one row per tenant.
    const digests = await db.query<{ tenant_id: string }>(
      'SELECT tenant_id FROM tenant_daily_digests ORDER BY tenant_id',
    );
    expect(digests.rows.map((row) => row.tenant_id)).toEqual([...seed.tenants].sort());
    const afterAdditive = await app.get(NotificationReport).deliveryCounts();
    expect(afterAdditive.duplicateSends).toBe(0);
    expect(afterAdditive.sent).toBeGreaterThan(0);
    await app.close();

    // 3. Exclusive cutover: the pipeline only; the legacy module removes its schedulers.
    app = await startSampleApp({ database, prefix, mode: 'pipeline' });
    expect(await schedulers(pipelineQueue)).toEqual(PIPELINE);
    expect(await schedulers(legacyQueue)).toEqual([]);
    await app.close();

    // 4. Rollback of one job by configuration: enabled: false on it, its legacy scheduler back, the others untouched.
    app = await startSampleApp({ database, prefix, mode: 'pipeline', disabled: ['campaign-scheduler-pipeline'] });
    expect(await schedulers(pipelineQueue)).toEqual(PIPELINE.filter((s) => s.id !== 'campaign-scheduler-pipeline'));
    expect(await schedulers(legacyQueue)).toEqual([{ id: 'campaign-scheduler', cron: '* * * * *' }]);
    const rolledBack = app.get(BackgroundJobs);
    expect(
      (await rolledBack.listRecurring()).find((info) => info.jobId === 'campaign-scheduler-pipeline'),
    ).toBeUndefined();
    await expect(rolledBack.runNow('campaign-scheduler-pipeline')).rejects.toThrow(InvalidJobInputError);
    expect((await legacyTick('campaign-scheduler')).returnvalue).toMatchObject({ failed: 0 });
    await app.close();

    // 5. Forward again.
    app = await startSampleApp({ database, prefix, mode: 'pipeline' });
    expect(await schedulers(pipelineQueue)).toEqual(PIPELINE);
    expect(await schedulers(legacyQueue)).toEqual([]);
    expect((await app.get(NotificationReport).deliveryCounts()).duplicateSends).toBe(0);
  }, 120_000);

  it.each(PIPELINE_SCHEDULES.map((s) => s.id))(
    'JOBS_DISABLED=%s restores only that job’s legacy schedulers and leaves the other six on the pipeline',
    async (id) => {
      app = await startSampleApp({ database: await target.fresh(), prefix, mode: 'pipeline', disabled: [id] });
      const expected = activeSchedules('pipeline', [id]);
      expect(expected.pipeline).toHaveLength(PIPELINE_SCHEDULES.length - 1);
      expect(await schedulers(pipelineQueue)).toEqual(PIPELINE.filter((s) => s.id !== id));
      expect(await schedulers(legacyQueue)).toEqual(
        LEGACY.filter((s) => MIGRATED_JOBS.find((job) => job.id === id)?.legacy.some((legacyId) => legacyId === s.id)),
      );
      const recurring = (await app.get(BackgroundJobs).listRecurring()).filter(
        (info) => info.queue === NOTIFICATIONS_QUEUE,
      );
      expect(recurring.map((info) => info.jobId).sort()).toEqual(expected.pipeline.slice().sort());
    },
    30_000,
  );
});
