import { BackgroundJobs, BatchSummary, InvalidJobInputError, JobContext } from 'nestjs-background-jobs';
import { appsPerTest, defineJob, TransportKind } from '../support/jobs-app';
import { waitFor } from '../support/redis';
import { timeOf } from '../support/test-time';

const transports: TransportKind[] = ['bullmq', 'local'];

/** The batch's timeout under test. */
const TIMEOUT_MS = 1_500;
// NOTE: the margin between the timeout and its callback having run: the deadline found by a sweep (every 500 ms on
// BullMQ; a timer on the embedded transport), the waiting children removed and the running ones aborted, the callback
// enqueued, taken and run, on a loaded 2-core machine. 8 s leaves room for a stalled event loop.
const MARGIN_MS = 8_000;

/** Ends only when its run is aborted (its batch's timeout cancels it). */
const untilAborted = (ctx: JobContext<unknown>) =>
  new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));

describe.each(transports)('batch timeouts on %s', (transport) => {
  const { boot } = appsPerTest('batch-timeout');

  const jobsOf = () => {
    const seen = { complete: [] as Array<{ batch?: BatchSummary; at: number }>, success: [] as unknown[] };
    const Child = defineJob('SlowChildJob', { id: 'slow-child', timeoutMs: 60_000 }, (ctx) =>
      (ctx.data as { fast: boolean }).fast ? 'done' : untilAborted(ctx),
    );
    const OnComplete = defineJob('TimeoutDoneJob', { id: 'timeout-done' }, (ctx) => {
      seen.complete.push({ batch: ctx.batch, at: Date.now() });
    });
    const OnSuccess = defineJob('TimeoutSucceededJob', { id: 'timeout-succeeded' }, (ctx) => {
      seen.success.push(ctx.batch);
    });
    return { seen, jobs: [Child, OnComplete, OnSuccess] };
  };

  it('children not ended by timeoutMs are cancelled and counted; onComplete once with the final counts; late ends call back nothing', async () => {
    const { seen, jobs } = jobsOf();
    // NOTE: concurrency 2 of 4 children: one slow child runs, the other waits for a slot when the timeout comes.
    const app = await boot({ transport, jobs, worker: { concurrency: 2 } });
    const api = app.get(BackgroundJobs);

    const started = Date.now();
    const { batchId, executionIds } = await api.batch(
      [{ fast: true }, { fast: true }, { fast: false }, { fast: false }].map((data) => ({ job: 'slow-child', data })),
      { onComplete: { job: 'timeout-done' }, onSuccess: { job: 'timeout-succeeded' }, timeoutMs: TIMEOUT_MS },
    );

    await waitFor('the onComplete callback ran', () => (seen.complete.length ? true : null), TIMEOUT_MS + MARGIN_MS);
    const elapsed = seen.complete[0].at - started;
    const summary = { batchId, total: 4, completed: 2, failed: 0, cancelled: 2, pending: 0, state: 'failed' };
    expect(seen.complete[0].batch).toEqual(summary);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    // The slow children end cancelled (after the timeout): their late ends change no count and call back nothing.
    await waitFor(
      'both slow children ended cancelled',
      async () => {
        const states = await Promise.all(executionIds.slice(2).map((id) => api.getExecution(id)));
        return states.every((e) => e?.state === 'cancelled') ? true : null;
      },
      MARGIN_MS,
    );
    await waitFor(
      'the callback run completed',
      async () => ((await api.getExecution(`${batchId}.complete`))?.state === 'completed' ? true : null),
      MARGIN_MS,
    );
    expect(await api.getBatch(batchId)).toEqual(summary);
    expect(seen.complete).toHaveLength(1);
    expect(seen.success).toEqual([]);
    process.stdout.write(
      `[batch-timeout/${transport}] callback ${elapsed} ms after batch() (timeoutMs ${TIMEOUT_MS})\n`,
    );
  });

  it('a batch that finishes before its timeout calls back once as usual; the timeout then changes nothing', async () => {
    const { seen, jobs } = jobsOf();
    // NOTE: on the embedded transport the app runs on the test clock: the wait past the deadline below moves the clock
    // (the batch's timer is on it) instead of waiting; BullMQ has no test clock and waits real time.
    const app = await boot({ transport, jobs, testClock: {} });
    const api = app.get(BackgroundJobs);
    const time = timeOf(app);

    const started = time.now();
    const { batchId } = await api.batch([{ job: 'slow-child', data: { fast: true } }], {
      onComplete: { job: 'timeout-done' },
      onSuccess: { job: 'timeout-succeeded' },
      timeoutMs: 300,
    });

    await time.until(
      'both callbacks ran',
      () => (seen.complete.length && seen.success.length ? true : null),
      MARGIN_MS,
    );
    const summary = { batchId, total: 1, completed: 1, failed: 0, cancelled: 0, pending: 0, state: 'succeeded' };
    // NOTE: no event marks "the deadline passed and changed nothing": wait past it and two sweeps, then look.
    await time.pass(Math.max(0, started + 300 + 1_000 - time.now()));
    expect(await api.getBatch(batchId)).toEqual(summary);
    expect(seen.complete.map((c) => c.batch)).toEqual([summary]);
    expect(seen.success).toEqual([summary]);
  });

  it('timeoutMs not an integer from 1 to bounds.maxDelayMs: InvalidJobInputError naming it, nothing enqueued', async () => {
    const { jobs } = jobsOf();
    const app = await boot({ transport, jobs });
    const api = app.get(BackgroundJobs);
    for (const timeoutMs of [0, -1, 1.5, '1000', Number.NaN]) {
      await expect(api.batch([{ job: 'slow-child' }], { timeoutMs: timeoutMs as number })).rejects.toThrow(
        InvalidJobInputError,
      );
    }
    await expect(api.batch([{ job: 'slow-child' }], { timeoutMs: 0 })).rejects.toThrow(/timeoutMs: 0/);
    expect((await api.listExecutions()).total).toBe(0);
  });

  if (transport === 'bullmq') {
    it('the timeout is kept in Redis: an instance stopped right after batch() and a new one started, the callback still runs once', async () => {
      const { seen, jobs } = jobsOf();
      const first = await boot({ transport, jobs, worker: false });
      const started = Date.now();
      const { batchId } = await first.get(BackgroundJobs).batch([{ job: 'slow-child', data: { fast: false } }], {
        onComplete: { job: 'timeout-done' },
        timeoutMs: TIMEOUT_MS,
      });
      await first.close();
      // NOTE: the first instance (a producer, never a worker) is gone: no process holds a timer for this batch.
      const second = await boot({ transport, jobs });
      await waitFor('the onComplete callback ran', () => (seen.complete.length ? true : null), TIMEOUT_MS + MARGIN_MS);
      expect(seen.complete[0].at - started).toBeGreaterThanOrEqual(TIMEOUT_MS);
      expect(seen.complete[0].batch).toMatchObject({ batchId, total: 1, cancelled: 1, state: 'failed' });
      expect(await second.get(BackgroundJobs).getBatch(batchId)).toMatchObject({ cancelled: 1, pending: 0 });
    });
  }
});
