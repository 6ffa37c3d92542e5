import { TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import {
  BackgroundJobs,
  BackgroundJobsHealthIndicator,
  JobContext,
  PermanentJobError,
  TransientJobError,
} from 'nestjs-background-jobs';
import { defineJob, startJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../support/redis';

describe('failure classification, retries, timeouts and cancellation', () => {
  let prefix: string;
  const apps: TestingModule[] = [];

  beforeEach(() => {
    prefix = randomPrefix('fail');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  const boot = async (...args: Parameters<typeof startJobsApp>) => {
    const app = await startJobsApp(...args);
    apps.push(app);
    return app;
  };

  it('a permanent failure fails at once: exactly one attempt', async () => {
    let calls = 0;
    const Job = defineJob('ImportJob', { id: 'import', retry: { attempts: 5, backoffMs: 10 } }, () => {
      calls += 1;
      throw new PermanentJobError('row 3: "price" is not a number');
    });
    const app = await boot({ prefix, jobs: [Job] });

    const execution = await app.get(BackgroundJobs).runNow(Job);

    expect(execution).toMatchObject({
      state: 'failed',
      attempts: 1,
      failure: { kind: 'permanent', message: 'row 3: "price" is not a number' },
    });
    expect(calls).toBe(1);
  });

  it('a transient failure with 3 attempts is tried 3 times at growing intervals, then fails as transient', async () => {
    const startedAt: number[] = [];
    const Job = defineJob('SyncJob', { id: 'sync', retry: { attempts: 3, backoffMs: 200 } }, () => {
      startedAt.push(Date.now());
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    });
    const app = await boot({ prefix, jobs: [Job] });

    const execution = await app.get(BackgroundJobs).runNow(Job);

    expect(execution).toMatchObject({
      state: 'failed',
      attempts: 3,
      failure: { kind: 'transient', message: 'socket hang up' },
    });
    expect(startedAt).toHaveLength(3);
    const [first, second] = [startedAt[1] - startedAt[0], startedAt[2] - startedAt[1]];
    // NOTE: the backoff doubles: lower bounds only, since a retry never runs early but may be picked up late.
    expect(first).toBeGreaterThanOrEqual(190);
    expect(second).toBeGreaterThanOrEqual(380);
  });

  it('a transient error that clears on attempt 3 completes', async () => {
    const Job = defineJob('FlakyJob', { id: 'flaky', retry: { attempts: 3, backoffMs: 20 } }, (ctx) => {
      if (ctx.attempt < 3) throw new TransientJobError(`attempt ${ctx.attempt} hit a 503`);
      return `ok on attempt ${ctx.attempt}`;
    });
    const app = await boot({ prefix, jobs: [Job] });

    const execution = await app.get(BackgroundJobs).runNow(Job);

    expect(execution).toMatchObject({ state: 'completed', attempts: 3, result: 'ok on attempt 3' });
    expect(execution.failure).toBeUndefined();
  });

  it('a 200 ms timeout on a 10 s body ends well before the body with kind timeout, not retried, and the late result is ignored', async () => {
    const BODY_MS = 10_000;
    let reason: unknown;
    let calls = 0;
    const Job = defineJob(
      'SlowJob',
      { id: 'slow', timeoutMs: 200, retry: { attempts: 3, backoffMs: 10 } },
      async (ctx) => {
        calls += 1;
        ctx.signal.addEventListener('abort', () => (reason = ctx.signal.reason));
        await new Promise((r) => setTimeout(r, BODY_MS).unref());
        return 'too late';
      },
    );
    const app = await boot({ prefix, jobs: [Job] });
    const started = Date.now();

    const execution = await app.get(BackgroundJobs).runNow(Job);

    // NOTE: a run that waited for its body would take BODY_MS; half of it leaves a slow host seconds for the rest.
    expect(Date.now() - started).toBeLessThan(BODY_MS / 2);
    expect(execution).toMatchObject({ state: 'failed', attempts: 1, failure: { kind: 'timeout' } });
    expect(execution.failure!.message).toContain('200 ms');
    expect(reason).toMatchObject({ name: 'JobAbortedError', kind: 'timeout' });
    expect(calls).toBe(1);
  });

  it('a thrown string is wrapped and classified', async () => {
    const Job = defineJob('StringThrowerJob', { id: 'string-thrower', retry: { attempts: 1 } }, () => {
      throw 'legacy code threw a string';
    });
    const app = await boot({ prefix, jobs: [Job] });

    const execution = await app.get(BackgroundJobs).runNow(Job);

    expect(execution).toMatchObject({
      state: 'failed',
      failure: { kind: 'transient', message: 'Non-error thrown: legacy code threw a string' },
    });
  });

  it('the kind is stored on the BullMQ job, so a plain BullMQ client sees it too', async () => {
    const Job = defineJob('AuditJob', { id: 'audit' }, () => {
      throw new PermanentJobError('missing tenant settings');
    });
    const app = await boot({ prefix, jobs: [Job] });
    const { executionId } = await app.get(BackgroundJobs).runNow(Job);
    const queue = new Queue('background-jobs', { connection: { url: testRedisUrl() }, prefix });
    try {
      const job = await queue.getJob(executionId);
      expect(job!.failedReason).toBe('missing tenant settings');
      expect(job!.data.failure).toEqual({
        kind: 'permanent',
        message: 'missing tenant settings',
        stack: expect.stringMatching(/^PermanentJobError: missing tenant settings\n\s+at /),
      });
      expect(await job!.getState()).toBe('failed');
    } finally {
      await queue.close();
    }
  });

  it('cancelling, from instance A, a run executing on instance B ends it cancelled, never retried', async () => {
    let started = 0;
    let abortReason: unknown;
    const onB = defineJob(
      'LongExportJob',
      { id: 'long-export', retry: { attempts: 3, backoffMs: 10 } },
      async (ctx: JobContext) => {
        started += 1;
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        abortReason = ctx.signal.reason;
        return 'should not count';
      },
    );
    const onA = defineJob('LongExportJob', { id: 'long-export' });
    const a = await boot({ prefix, jobs: [onA], worker: false });
    const b = await boot({ prefix, jobs: [onB] });
    const jobsA = a.get(BackgroundJobs);

    const id = await jobsA.enqueue(onA);
    await waitFor(
      'the run to start on B',
      async () => (await jobsA.getExecution(id))?.state === 'running' && started === 1,
    );
    expect(await jobsA.cancel(id)).toBe(true);
    const execution = await waitFor('the run to end', async () => {
      const e = await jobsA.getExecution(id);
      return e && e.state !== 'running' && e.state !== 'pending' ? e : null;
    });

    expect(execution).toMatchObject({ state: 'cancelled', attempts: 1, failure: { kind: 'cancelled' } });
    expect(abortReason).toMatchObject({ kind: 'cancelled' });
    expect(started).toBe(1);
    expect(await jobsA.cancel(id)).toBe(false);
    // NOTE: the cancel ended one run, not the instance: B still has its worker running.
    expect((await b.get(BackgroundJobsHealthIndicator).isHealthy('jobs')).jobs).toMatchObject({
      workers: { expected: 1, running: 1 },
    });
  });

  it('cancelling a delayed run: it never runs, and getExecution reports it cancelled', async () => {
    let calls = 0;
    const Job = defineJob('ReminderJob', { id: 'reminder' }, () => {
      calls += 1;
    });
    const Probe = defineJob('ProbeJob', { id: 'probe' });
    const app = await boot({ prefix, jobs: [Job, Probe] });
    const jobs = app.get(BackgroundJobs);

    const id = await jobs.enqueue(Job, undefined, { delayMs: 300 });
    expect((await jobs.getExecution(id))?.state).toBe('delayed');
    expect(await jobs.cancel(id)).toBe(true);
    // NOTE: a run due later on the same queue and worker proves the worker went past the cancelled run's due time.
    expect(await jobs.runNow(Probe, { delayMs: 500 })).toMatchObject({ state: 'completed' });

    expect(calls).toBe(0);
    expect(await jobs.getExecution(id)).toMatchObject({ state: 'cancelled', failure: { kind: 'cancelled' } });
  });

  it("a payload that fails the job's schema fails the run permanently, before the body runs", async () => {
    let bodyRan = 0;
    const schema = {
      parse(data: unknown) {
        const d = data as { email?: unknown };
        if (typeof d?.email !== 'string')
          throw Object.assign(new Error('email: expected string'), { name: 'ZodError' });
        return { email: d.email.toLowerCase() };
      },
    };
    const Job = defineJob(
      'WelcomeJob',
      { id: 'welcome', schema, retry: { attempts: 3, backoffMs: 10 } },
      (ctx: JobContext<{ email: string }>) => {
        bodyRan += 1;
        return ctx.data.email;
      },
    );
    const app = await boot({ prefix, jobs: [Job] });
    const jobs = app.get(BackgroundJobs);

    const bad = await jobs.runNow(Job, { data: { email: 42 } });
    const good = await jobs.runNow(Job, { data: { email: 'Ada@Example.com' } });

    expect(bad).toMatchObject({
      state: 'failed',
      attempts: 1,
      failure: {
        kind: 'permanent',
        message: 'The payload of job "welcome" was rejected by its schema: email: expected string',
      },
    });
    expect(good).toMatchObject({ state: 'completed', result: 'ada@example.com' });
    expect(bodyRan).toBe(1);
  });

  it('cancel returns false for unknown and finished ids', async () => {
    const Job = defineJob('QuickJob', { id: 'quick' });
    const app = await boot({ prefix, jobs: [Job] });
    const jobs = app.get(BackgroundJobs);
    const { executionId } = await jobs.runNow(Job);

    expect(await jobs.cancel('no-such-execution')).toBe(false);
    expect(await jobs.cancel(executionId)).toBe(false);
    expect(await jobs.getExecution('no-such-execution')).toBeNull();
  });
});
