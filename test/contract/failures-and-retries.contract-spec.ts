import { InvalidJobInputError, PermanentJobError, TransientJobError } from 'nestjs-background-jobs';
import { RETRY_NOT_FAILED } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { retryDelayMs } from 'nestjs-background-jobs/core/retry-policy';
import { defineJob } from '../support/jobs-app';
import { waitFor } from '../support/redis';
import { describeContract } from './support/contract';

describeContract('failures and retries: classification, timeouts, retry()', (c) => {
  const { boot } = c;

  it('permanent fails at once; transient retries with growing backoff then fails; a transient error that clears completes', async () => {
    const calls = { permanent: 0, transient: [] as number[], clears: 0 };
    const Permanent = defineJob('PermanentJob', { id: 'permanent', retry: { attempts: 3, backoffMs: 10 } }, () => {
      calls.permanent += 1;
      throw new PermanentJobError('invalid');
    });
    const Transient = defineJob('TransientJob', { id: 'transient', retry: { attempts: 3, backoffMs: 100 } }, () => {
      calls.transient.push(Date.now());
      throw new TransientJobError('503');
    });
    const Clears = defineJob('ClearsJob', { id: 'clears', retry: { attempts: 3, backoffMs: 10 } }, (ctx) => {
      calls.clears += 1;
      if (ctx.attempt < 3) throw new TransientJobError('not yet');
      return 'ok';
    });
    const jobs = await boot({ jobs: [Permanent, Transient, Clears] });

    const [permanent, transient, clears] = await Promise.all([
      jobs.runNow(Permanent),
      jobs.runNow(Transient),
      jobs.runNow(Clears),
    ]);

    expect(permanent).toMatchObject({
      state: 'failed',
      attempts: 1,
      failure: { kind: 'permanent', message: 'invalid' },
    });
    expect(calls.permanent).toBe(1);
    expect(transient).toMatchObject({ state: 'failed', attempts: 3, failure: { kind: 'transient', message: '503' } });
    const gaps = calls.transient.slice(1).map((t, i) => t - calls.transient[i]);
    // NOTE: lower bounds only (a retry never runs early; 5 ms for timer rounding): a first retry picked up late on a
    // busy host must not make the backoff look flat.
    expect(gaps[0]).toBeGreaterThanOrEqual(retryDelayMs({ backoffMs: 100 }, 1) - 5);
    expect(gaps[1]).toBeGreaterThanOrEqual(retryDelayMs({ backoffMs: 100 }, 2) - 5);
    expect(clears).toMatchObject({ state: 'completed', attempts: 3, result: 'ok' });
    expect(clears.failure).toBeUndefined();
  });

  it('a timeout aborts ctx.signal and fails the run with kind timeout, without retry', async () => {
    const Job = defineJob('SlowJob', { id: 'slow', timeoutMs: 100 }, async (ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      return 'late';
    });
    const jobs = await boot({ jobs: [Job] });

    const execution = await jobs.runNow(Job);

    expect(execution).toMatchObject({ state: 'failed', attempts: 1, failure: { kind: 'timeout' } });
  });

  it('retry(): a failed run runs again as a fresh attempt; a run that is not failed is refused; backoff grows as retryDelayMs says', async () => {
    const started: number[] = [];
    let failing = true;
    const Job = defineJob('FlakyJob', { id: 'flaky', retry: { attempts: 3, backoffMs: 100 } }, () => {
      started.push(Date.now());
      if (failing) throw new TransientJobError('down');
      return 'up';
    });
    const jobs = await boot({ jobs: [Job] });

    const failed = await jobs.runNow(Job);
    expect(failed).toMatchObject({ state: 'failed', attempts: 3 });
    const gaps = started.slice(1).map((t, i) => t - started[i]);
    // NOTE: a retry never runs early; 5 ms of slack for timer rounding.
    expect(gaps[0]).toBeGreaterThanOrEqual(retryDelayMs({ backoffMs: 100 }, 1) - 5);
    expect(gaps[1]).toBeGreaterThanOrEqual(retryDelayMs({ backoffMs: 100 }, 2) - 5);
    failing = false;
    expect(await jobs.retry(failed.executionId)).toBe(true);
    const retried = await waitFor('the retried run', async () => {
      const e = await jobs.getExecution(failed.executionId);
      return e?.state === 'completed' ? e : null;
    });

    expect(retried).toMatchObject({ result: 'up' });
    expect(started).toHaveLength(4);
    await expect(jobs.retry(failed.executionId)).rejects.toThrow(
      new InvalidJobInputError(RETRY_NOT_FAILED(failed.executionId, 'completed')),
    );
    expect(await jobs.retry('unknown-id')).toBe(false);
  });
});
