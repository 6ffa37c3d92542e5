import { BackgroundJobs, BackgroundJobsHealthIndicator, JobContext, WaitTimeoutError } from 'nestjs-background-jobs';
import { WAIT_TIMEOUT } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { defineJob } from '../support/jobs-app';
import { waitFor } from '../support/redis';
import { describeContract } from './support/contract';

describeContract('runs: runNow, delays, dedupe, cancel, shutdown and health', (c) => {
  const { boot, startApp, transport, apps } = c;

  it('runNow returns completed with the return value, the attempt and the ids', async () => {
    const Job = defineJob('EchoJob', { id: 'echo' }, (ctx: JobContext<{ word: string }>) => ({
      word: ctx.data.word,
      attempt: ctx.attempt,
      jobId: ctx.jobId,
    }));
    const jobs = await boot({ jobs: [Job] });

    const execution = await jobs.runNow(Job, { data: { word: 'hi' } });

    expect(execution).toMatchObject({
      state: 'completed',
      jobId: 'echo',
      tenantId: null,
      attempts: 1,
      result: { word: 'hi', attempt: 1, jobId: 'echo' },
    });
    expect(await jobs.getExecution(execution.executionId)).toMatchObject({ state: 'completed' });
  });

  it('runNow gives up after waitTimeoutMs with a WaitTimeoutError naming the run, which goes on and completes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const Job = defineJob('GatedJob', { id: 'gated' }, async () => {
      await gate;
      return 'done';
    });
    const jobs = await boot({ jobs: [Job] });

    const waitTimeoutMs = 300;
    const error = await jobs.runNow(Job, { waitTimeoutMs }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WaitTimeoutError);
    const { executionId } = error as WaitTimeoutError;
    expect(error).toMatchObject({ timeoutMs: waitTimeoutMs, message: WAIT_TIMEOUT(executionId, waitTimeoutMs) });
    expect(['pending', 'running']).toContain((await jobs.getExecution(executionId))?.state);
    release();
    await waitFor('the run to complete', async () => (await jobs.getExecution(executionId))?.state === 'completed');
  });

  it('health is up with its workers running and names where runs are kept; down once the app has closed', async () => {
    const Job = defineJob('EchoJob', { id: 'echo' });
    const app = await startApp({ jobs: [Job] });
    apps.push(app);
    const health = app.get(BackgroundJobsHealthIndicator);

    const up = (await health.isHealthy('jobs')).jobs;
    expect(up).toMatchObject({ status: 'up', workers: { expected: 1, running: 1 }, backlog: 0 });
    if (transport === 'local') expect(up).toMatchObject({ store: 'memory' });
    else expect(up).toMatchObject({ redis: 'up' });
    expect(up).not.toHaveProperty(transport === 'local' ? 'redis' : 'store');

    await app.close();
    expect((await health.isHealthy('jobs')).jobs).toMatchObject({
      status: 'down',
      workers: { expected: 1, running: 0 },
    });
  });

  it('a delayed run is delayed, then runs no earlier than its time', async () => {
    const ranAt: number[] = [];
    const Job = defineJob('LaterJob', { id: 'later' }, () => ranAt.push(Date.now()));
    const jobs = await boot({ jobs: [Job] });
    const before = Date.now();

    // NOTE: 2 s, so a reply held back by a busy host still finds the run delayed.
    const id = await jobs.enqueue(Job, undefined, { delayMs: 2_000 });
    expect((await jobs.getExecution(id))?.state).toBe('delayed');
    const execution = await waitFor('the delayed run', async () => {
      const e = await jobs.getExecution(id);
      return e?.state === 'completed' ? e : null;
    });

    expect(ranAt[0] - before).toBeGreaterThanOrEqual(1_990);
    expect(execution!.scheduledAt!.getTime()).toBeGreaterThanOrEqual(before + 2_000);
  });

  it('a dedupeKey returns the pending run instead of adding another', async () => {
    const Job = defineJob('DigestJob', { id: 'digest' });
    const jobs = await boot({ jobs: [Job] });

    const first = await jobs.enqueue(Job, { n: 1 }, { dedupeKey: 'user-7', delayMs: 10_000 });
    const second = await jobs.enqueue(Job, { n: 2 }, { dedupeKey: 'user-7', delayMs: 10_000 });

    expect(second).toBe(first);
    expect(await jobs.cancel(first)).toBe(true);
  });

  it('cancel: a delayed run never runs, a running run ends cancelled, unknown and finished ids give false', async () => {
    const ran: string[] = [];
    const Job = defineJob('CancellableJob', { id: 'cancellable' }, async (ctx: JobContext<{ name: string }>) => {
      ran.push(ctx.data.name);
      if (ctx.data.name === 'long')
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    });
    const jobs = await boot({ jobs: [Job] });

    const delayed = await jobs.enqueue(Job, { name: 'delayed' }, { delayMs: 200 });
    expect(await jobs.cancel(delayed)).toBe(true);
    const long = await jobs.enqueue(Job, { name: 'long' });
    await waitFor('the long run to start', async () => (await jobs.getExecution(long))?.state === 'running');
    expect(await jobs.cancel(long)).toBe(true);
    const cancelled = await waitFor('the long run to end', async () => {
      const e = await jobs.getExecution(long);
      return e?.state === 'cancelled' ? e : null;
    });
    const probe = await jobs.runNow(Job, { data: { name: 'probe' }, delayMs: 300 });

    expect(cancelled).toMatchObject({ attempts: 1, failure: { kind: 'cancelled' } });
    expect(probe.state).toBe('completed');
    expect(ran).toEqual(['long', 'probe']);
    expect(await jobs.getExecution(delayed)).toMatchObject({ state: 'cancelled' });
    expect(await jobs.cancel(probe.executionId)).toBe(false);
    expect(await jobs.cancel('unknown-id')).toBe(false);
  });

  it('shutdown lets a running job finish within the grace period', async () => {
    let finished = 0;
    let started = false;
    const Job = defineJob('FinishJob', { id: 'finish' }, async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 300));
      finished += 1;
    });
    const app = await startApp({ jobs: [Job], worker: { shutdownGraceMs: 5_000 } });
    await app.get(BackgroundJobs).enqueue(Job);
    await waitFor('the job to start', () => started);

    await app.close();

    expect(finished).toBe(1);
  });
});
