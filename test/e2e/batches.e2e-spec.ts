import { TestingModule } from '@nestjs/testing';
import { BackgroundJobs, BatchSummary, InvalidJobInputError, PermanentJobError } from 'nestjs-background-jobs';
import { BATCH_TOO_LARGE, EMPTY_BATCH } from 'nestjs-background-jobs/contracts/composition.messages';
import { appsPerTest, defineJob, TransportKind } from '../support/jobs-app';
import { waitFor } from '../support/redis';

const transports: TransportKind[] = ['bullmq', 'local'];

describe.each(transports)('batches on %s', (transport) => {
  const { boot } = appsPerTest('batch');

  const jobsOf = (transport: TransportKind) => {
    const seen = { complete: [] as (BatchSummary | undefined)[], success: [] as (BatchSummary | undefined)[] };
    const ran: string[] = [];
    const Child = defineJob('ChildJob', { id: 'child', retry: { attempts: 2, backoffMs: 10 } }, (ctx) => {
      ran.push(ctx.executionId);
      if ((ctx.data as { n: number }).n === 7) throw new PermanentJobError('child 7 cannot be processed');
      return (ctx.data as { n: number }).n;
    });
    const OnComplete = defineJob('BatchDoneJob', { id: 'batch-done' }, (ctx) => {
      seen.complete.push(ctx.batch);
      return ctx.data;
    });
    const OnSuccess = defineJob('BatchSucceededJob', { id: 'batch-succeeded' }, (ctx) => {
      seen.success.push(ctx.batch);
    });
    return { seen, ran, jobs: [Child, OnComplete, OnSuccess], transport };
  };

  it('10 children, one failing permanently, across instances: onComplete once with { total: 10, completed: 9, failed: 1 }, onSuccess never', async () => {
    const { seen, ran, jobs } = jobsOf(transport);
    // NOTE: two instances on BullMQ (same prefix: both take children and either may finish the batch); one on local.
    const apps: TestingModule[] = [await boot({ transport, jobs, worker: { concurrency: 3 } })];
    if (transport === 'bullmq') apps.push(await boot({ transport, jobs, worker: { concurrency: 3 } }));
    const jobsApi = apps[0].get(BackgroundJobs);

    const { batchId, executionIds } = await jobsApi.batch(
      Array.from({ length: 10 }, (_, n) => ({ job: 'child', data: { n } })),
      { onComplete: { job: 'batch-done', data: { report: 'weekly' } }, onSuccess: { job: 'batch-succeeded' } },
    );

    expect(executionIds).toHaveLength(10);
    await waitFor('the onComplete callback ran', () => (seen.complete.length ? true : null), 15_000);
    const callback = await waitFor(
      'the callback run completed',
      async () => {
        const execution = await jobsApi.getExecution(`${batchId}.complete`);
        return execution?.state === 'completed' ? execution : null;
      },
      10_000,
    );
    const summary = { batchId, total: 10, completed: 9, failed: 1, cancelled: 0, pending: 0, state: 'failed' };
    expect(await jobsApi.getBatch(batchId)).toEqual(summary);
    expect(seen.complete).toEqual([summary]);
    expect(callback?.result).toEqual({ report: 'weekly' });
    expect(seen.success).toEqual([]);
    // NOTE: every child ran exactly once (the permanent failure is not retried).
    expect([...ran].sort()).toEqual([...executionIds].sort());
    process.stdout.write(`[batches/${transport}] ${JSON.stringify(seen.complete[0])}\n`);
  });

  it('all children completed: onComplete and onSuccess each once; ctx.batch says succeeded', async () => {
    const { seen, jobs } = jobsOf(transport);
    const app = await boot({ transport, jobs });
    const jobsApi = app.get(BackgroundJobs);

    const { batchId } = await jobsApi.batch(
      [
        { job: 'child', data: { n: 1 } },
        { job: 'child', data: { n: 2 } },
      ],
      {
        onComplete: { job: 'batch-done' },
        onSuccess: { job: 'batch-succeeded' },
      },
    );

    await waitFor('both callbacks ran', () => (seen.complete.length && seen.success.length ? true : null), 10_000);
    const summary = { batchId, total: 2, completed: 2, failed: 0, cancelled: 0, pending: 0, state: 'succeeded' };
    expect(seen.complete).toEqual([summary]);
    expect(seen.success).toEqual([summary]);
  });

  it('an empty batch, one over 10,000 runs, or an unknown job: InvalidJobInputError, nothing enqueued', async () => {
    const { jobs } = jobsOf(transport);
    const app = await boot({ transport, jobs });
    const jobsApi = app.get(BackgroundJobs);

    await expect(jobsApi.batch([])).rejects.toThrow(new InvalidJobInputError(EMPTY_BATCH()));
    await expect(jobsApi.batch(Array.from({ length: 10_001 }, () => ({ job: 'child' })))).rejects.toThrow(
      new InvalidJobInputError(BATCH_TOO_LARGE(10_001, 10_000)),
    );
    await expect(jobsApi.batch([{ job: 'child' }, { job: 'no-such-job' }])).rejects.toThrow(InvalidJobInputError);
    expect((await jobsApi.listExecutions()).total).toBe(0);
  });
});
