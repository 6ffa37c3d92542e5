import { TestingModule } from '@nestjs/testing';
import { BackgroundJobs, JobExecution } from 'nestjs-background-jobs';
import {
  CampaignCleanupWorker,
  CampaignSchedulerResult,
  CampaignSchedulerWorker,
  CampaignWorkflowExecutorWorker,
  NotificationDatabase,
  NotificationDeadLetterCleanupWorker,
  NotificationReport,
  NotificationRetryWorker,
  NotificationSeeder,
  WorkflowExecutorResult,
} from '../../apps/sample-app/src/domain';
import { CampaignWorkflowExecutorPipelineJob } from '../../apps/sample-app/src/jobs';
import { deletePrefix, randomPrefix, waitFor } from '../support/redis';
import {
  DatabaseTarget,
  pauseSchedules,
  pgliteTarget,
  postgresTarget,
  RecordingLogger,
  startSampleApp,
} from './support/sample-app';

/** Every public method of the five domain workers, as `<worker>.<method>`. */
const WORKER_METHODS = {
  deadLetterCleanup: [NotificationDeadLetterCleanupWorker, ['cleanupDeadLetters', 'cleanupStaleRetries']],
  retry: [NotificationRetryWorker, ['expireStaleRetries', 'processDueRetries']],
  campaignCleanup: [CampaignCleanupWorker, ['cleanupCompletedCampaigns']],
  campaignScheduler: [CampaignSchedulerWorker, ['processDueCampaigns']],
  workflowExecutor: [CampaignWorkflowExecutorWorker, ['processPendingSteps']],
} as const;

/** DESIGN.md's table: what each job's body delegates to, in order. */
const ASSIGNED: Record<string, string[]> = {
  'notification-deadletter-cleanup-pipeline': [
    'deadLetterCleanup.cleanupDeadLetters',
    'deadLetterCleanup.cleanupStaleRetries',
  ],
  'notification-retry-expire-pipeline': ['retry.expireStaleRetries'],
  'notification-retry-processor-pipeline': ['retry.processDueRetries'],
  'campaign-cleanup-pipeline': ['campaignCleanup.cleanupCompletedCampaigns'],
  'campaign-scheduler-pipeline': ['campaignScheduler.processDueCampaigns'],
  'campaign-workflow-executor-pipeline': ['workflowExecutor.processPendingSteps'],
};
// NOTE: the seventh job, tenant-daily-digest-pipeline, is per-tenant: its own suite (per-tenant-job.e2e-spec.ts).

describe.each([postgresTarget(), pgliteTarget()])(
  'the six migrated jobs of the design notes on $name',
  (target: DatabaseTarget) => {
    let app: TestingModule | undefined;
    let prefix: string;

    beforeEach(() => {
      prefix = randomPrefix('sample');
    });

    afterEach(async () => {
      await app?.close();
      app = undefined;
      await target.cleanup();
      await deletePrefix(prefix);
    });

    afterAll(() => target.close());

    it('each adapter calls only its assigned method (retry-expire and retry-processor share one worker interface)', async () => {
      app = await startSampleApp({ database: await target.fresh(), prefix });
      await pauseSchedules(app);
      await app.get(NotificationSeeder).seedDemo(['t1', 't2']);
      const calls: string[] = [];
      const signals: unknown[] = [];
      const returned: unknown[] = [];
      for (const [name, [workerClass, methods]] of Object.entries(WORKER_METHODS)) {
        const worker = app.get<Record<string, (...args: unknown[]) => unknown>>(workerClass as never);
        for (const method of methods) {
          const original = worker[method].bind(worker);
          jest.spyOn(worker, method).mockImplementation((...args: unknown[]) => {
            calls.push(`${name}.${method}`);
            signals.push(args[0]);
            const value = original(...args);
            returned.push(value);
            return value;
          });
        }
      }
      const jobs = app.get(BackgroundJobs);
      expect((await jobs.listRecurring()).map((info) => info.jobId).sort()).toEqual(
        [...Object.keys(ASSIGNED), 'tenant-daily-digest-pipeline', 'sample-heartbeat'].sort(),
      );
      for (const [jobId, expected] of Object.entries(ASSIGNED)) {
        calls.length = 0;
        signals.length = 0;
        returned.length = 0;
        const run = await jobs.runNow(jobId);
        expect({ jobId, state: run.state }).toEqual({ jobId, state: 'completed' });
        expect({ jobId, calls }).toEqual({ jobId, calls: expected });
        // …and returns what the worker returned, untouched.
        const values = await Promise.all(returned);
        expect(run.result).toEqual(
          values.length === 2 ? { deadLetters: values[0], staleRetries: values[1] } : values[0],
        );
        // NOTE: the adapter's only translation: the run's cancellation signal goes to the worker.
        for (const signal of signals) expect(signal).toBeInstanceOf(AbortSignal);
      }
    });

    it('a worker failure reaches a failed run, not a swallowed success', async () => {
      app = await startSampleApp({ database: await target.fresh(), prefix });
      await pauseSchedules(app);
      const db = app.get(NotificationDatabase);
      const jobs = app.get(BackgroundJobs);
      await app.get(NotificationSeeder).seedDueRetries(3);
      // NOTE: a real database failure, not a mocked one: the table the worker reads is gone.
      await db.query('ALTER TABLE notification_retries RENAME TO notification_retries_moved');
      const failed = await jobs.runNow('notification-retry-processor-pipeline');
      expect(failed.state).toBe('failed');
      expect(failed.failure?.kind).toBe('transient');
      expect(failed.failure?.message).toMatch(/notification_retries.*does not exist/);
      expect(failed.attempts).toBe(2); // retried, then failed: the error was not swallowed on the way

      // The scheduler swallows per-campaign errors by design, but not a failure to read the due campaigns.
      await db.query('ALTER TABLE campaigns RENAME TO campaigns_moved');
      const schedulerRun = await jobs.runNow('campaign-scheduler-pipeline');
      expect(schedulerRun.state).toBe('failed');
      expect(schedulerRun.failure?.message).toMatch(/campaigns.*does not exist/);

      await db.query('ALTER TABLE notification_retries_moved RENAME TO notification_retries');
      const recovered = await jobs.runNow('notification-retry-processor-pipeline');
      expect(recovered.state).toBe('completed');
      expect(recovered.result).toMatchObject({ dispatched: 3 });
    });

    it('two concurrent runs of the workflow executor each invoke the worker once; the pipeline adds no dedup and the claim keeps every delivery unique', async () => {
      app = await startSampleApp({ database: await target.fresh(), prefix });
      await pauseSchedules(app);
      await app.get(NotificationSeeder).seedPendingExecutions(6, ['email', 'sms'], 3);
      const worker = app.get(CampaignWorkflowExecutorWorker);
      const original = worker.processPendingSteps.bind(worker);
      let inside = 0;
      const invoked = jest.spyOn(worker, 'processPendingSteps').mockImplementation(async (signal) => {
        inside += 1;
        // NOTE: hold each run until both are inside the worker, so they race for the same pending executions.
        await waitFor('both runs inside the worker', () => inside >= 2, 10_000, 5);
        return original(signal);
      });
      const jobs = app.get(BackgroundJobs);

      const [a, b] = (await Promise.all([
        jobs.runNow(CampaignWorkflowExecutorPipelineJob),
        jobs.runNow(CampaignWorkflowExecutorPipelineJob),
      ])) as Array<JobExecution<WorkflowExecutorResult>>;

      expect(a.executionId).not.toBe(b.executionId);
      expect([a.state, b.state]).toEqual(['completed', 'completed']);
      expect(invoked).toHaveBeenCalledTimes(2);
      const results = [a.result as WorkflowExecutorResult, b.result as WorkflowExecutorResult];
      expect(results[0].executions + results[1].executions).toBe(6);
      expect(results[0].duplicates + results[1].duplicates).toBe(0); // the claim did it; the unique key never had to
      const db = app.get(NotificationDatabase);
      expect(await app.get(NotificationReport).deliveryCounts()).toEqual({
        sent: 36,
        duplicateSends: 0,
        deliveries: 36,
      });
      const perKey = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM notification_deliveries GROUP BY correlation_id, attempt, channel HAVING count(*) > 1',
      );
      expect(perKey.rows).toEqual([]);
      const executions = await db.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM campaign_executions GROUP BY status',
      );
      expect(executions.rows).toEqual([{ status: 'completed', n: 6 }]);
    });

    it('the campaign scheduler catches and logs a per-campaign error and still schedules the other campaigns', async () => {
      const logger = new RecordingLogger();
      app = await startSampleApp({ database: await target.fresh(), prefix, logger });
      await pauseSchedules(app);
      const db = app.get(NotificationDatabase);
      const seeder = app.get(NotificationSeeder);
      const ids: number[] = [];
      await db.transaction(async (tx) => {
        for (const name of ['alpha', 'beta', 'gamma'])
          ids.push(await seeder.insertCampaign(tx, { tenant: 't1', name, dueMinutesAgo: 5 }));
      });
      // NOTE: beta's slot already has an execution (e.g. written by hand): its insert breaks the unique key.
      await db.query(
        `INSERT INTO campaign_executions (campaign_id, tenant_id, scheduled_for) SELECT id, tenant_id, next_run_at FROM campaigns WHERE id = $1`,
        [ids[1]],
      );

      const run = (await app
        .get(BackgroundJobs)
        .runNow('campaign-scheduler-pipeline')) as JobExecution<CampaignSchedulerResult>;

      expect(run.state).toBe('completed');
      expect(run.result).toEqual({ due: 3, scheduled: 2, scheduledElsewhere: 0, failed: 1 });
      const errors = logger.lines.filter((line) => line.level === 'error').map((line) => line.message);
      expect(errors).toEqual([expect.stringMatching(/^Campaign \d+ "beta" \(tenant t1\) was not scheduled: .*unique/)]);
      const advanced = await db.query<{ name: string; next_run_at: Date | null }>(
        'SELECT name, next_run_at FROM campaigns ORDER BY id',
      );
      expect(advanced.rows.map((row) => [row.name, row.next_run_at === null])).toEqual([
        ['alpha', true],
        ['beta', false], // rolled back: still due, retried on the next tick
        ['gamma', true],
      ]);
    });
  },
);
