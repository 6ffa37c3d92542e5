import { TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { BackgroundJobs } from 'nestjs-background-jobs';
import { NotificationDatabase, NotificationSeeder } from '../../apps/sample-app/src/domain';
import { LEGACY_SCHEDULES, NOTIFICATIONS_QUEUE, PIPELINE_SCHEDULES } from '../../apps/sample-app/src/notification.schedules';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../support/redis';
import { DatabaseTarget, postgresTarget, startSampleApp } from './support/sample-app';

const PIPELINE_IDS = PIPELINE_SCHEDULES.map((s) => s.id).sort();
const LEGACY_IDS = LEGACY_SCHEDULES.map((s) => s.id).sort();

describe('cutover (JOBS_MODE=pipeline) and rollback (JOBS_MODE=legacy) on BullMQ', () => {
  const target: DatabaseTarget = postgresTarget();
  let prefix: string;
  let app: TestingModule | undefined;
  let notifications: Queue;
  let heartbeat: Queue;

  beforeEach(() => {
    prefix = randomPrefix('cutover');
    notifications = new Queue(NOTIFICATIONS_QUEUE, { connection: { url: testRedisUrl() }, prefix });
    heartbeat = new Queue('background-jobs', { connection: { url: testRedisUrl() }, prefix });
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await notifications.close();
    await heartbeat.close();
    await target.cleanup();
    await deletePrefix(prefix);
  });

  /** Scheduler ids on a queue, as plain BullMQ reports them, with their crons. */
  const schedulers = async (queue: Queue) =>
    (await queue.getJobSchedulers(0, -1)).map((s) => ({ id: s.key, cron: s.pattern })).sort((a, b) => a.id.localeCompare(b.id));

  it('after cutover exactly the six pipeline schedulers exist; after rollback exactly the legacy ones, and the legacy processor runs', async () => {
    const database = await target.fresh();

    // Before the migration: the hand-rolled registrations.
    app = await startSampleApp({ database, prefix, mode: 'legacy' });
    expect((await schedulers(notifications)).map((s) => s.id)).toEqual(LEGACY_IDS);
    await app.close();

    // Cutover: `replaces` removes every legacy scheduler; the six pipeline ones take over with the same crons.
    app = await startSampleApp({ database, prefix, mode: 'pipeline' });
    expect(await schedulers(notifications)).toEqual([...PIPELINE_SCHEDULES].map((s) => ({ id: s.id, cron: s.cron })).sort((a, b) => a.id.localeCompare(b.id)));
    expect((await app.get(BackgroundJobs).runNow('notification-retry-processor-pipeline')).state).toBe('completed');
    await app.close();

    // Rollback is a flag: the legacy schedulers come back and the pipeline ones go.
    app = await startSampleApp({ database, prefix, mode: 'legacy' });
    expect(await schedulers(notifications)).toEqual([...LEGACY_SCHEDULES].map((s) => ({ id: s.id, cron: s.cron })).sort((a, b) => a.id.localeCompare(b.id)));
    expect((await schedulers(heartbeat)).map((s) => s.id)).toEqual(['sample-heartbeat']);
    await app.get(NotificationSeeder).seedDueRetries(3);
    const job = await notifications.add('notification-retry-processor', {});
    await waitFor('the legacy processor to run notification-retry-processor', async () => (await job.getState()) === 'completed', 10_000);
    const dispatched = await app.get(NotificationDatabase).query<{ n: number }>(`SELECT count(*)::int AS n FROM notification_retries WHERE status = 'dispatched'`);
    expect(dispatched.rows[0].n).toBe(3);
    await app.close();

    // And forward again.
    app = await startSampleApp({ database, prefix, mode: 'pipeline' });
    expect((await schedulers(notifications)).map((s) => s.id)).toEqual(PIPELINE_IDS);
  });
});
