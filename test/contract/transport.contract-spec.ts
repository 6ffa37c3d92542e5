import { TestingModule } from '@nestjs/testing';
import { BackgroundJobs, BackgroundJobsHealthIndicator, JobContext, PermanentJobError, TENANT_DIRECTORY, TransientJobError } from 'nestjs-background-jobs';
import { LOCK_BUSY } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { defineJob, startJobsApp, TransportKind } from '../support/jobs-app';
import { randomPrefix, waitFor } from '../support/redis';
import { RedisTopology, RedisTopologyKind, startTopology } from '../support/redis-topology';

type ContractTarget = 'local' | `bullmq ${RedisTopologyKind}`;

/**
 * One contract, every transport: everything a job author can observe in one process behaves the same on
 * BullMQ (over one Redis, a Redis Cluster and a Sentinel-managed master) and on the embedded transport.
 */
describe.each<ContractTarget>(['bullmq standalone', 'local', 'bullmq cluster', 'bullmq sentinel'])('transport contract: %s', (target) => {
  const transport: TransportKind = target === 'local' ? 'local' : 'bullmq';
  let topology: RedisTopology | undefined;
  let prefix: string;
  const apps: TestingModule[] = [];

  beforeAll(async () => {
    if (target !== 'local') topology = await startTopology(target.replace('bullmq ', '') as RedisTopologyKind);
  }, 60_000);

  afterAll(async () => {
    await topology?.destroy();
  });

  beforeEach(() => {
    prefix = randomPrefix(`contract-${transport}`);
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await topology?.deletePrefix(prefix);
  });

  const startApp = (options: Omit<Parameters<typeof startJobsApp>[0], 'prefix' | 'transport' | 'connection'>) =>
    startJobsApp({ prefix, transport, connection: topology?.connection, ...options });

  const boot = async (options: Omit<Parameters<typeof startJobsApp>[0], 'prefix' | 'transport' | 'connection'>) => {
    const app = await startApp(options);
    apps.push(app);
    return app.get(BackgroundJobs);
  };

  it('runNow returns completed with the return value, the attempt and the ids', async () => {
    const Job = defineJob('EchoJob', { id: 'echo' }, (ctx: JobContext<{ word: string }>) => ({ word: ctx.data.word, attempt: ctx.attempt, jobId: ctx.jobId }));
    const jobs = await boot({ jobs: [Job] });

    const execution = await jobs.runNow(Job, { data: { word: 'hi' } });

    expect(execution).toMatchObject({ state: 'completed', jobId: 'echo', tenantId: null, attempts: 1, result: { word: 'hi', attempt: 1, jobId: 'echo' } });
    expect(await jobs.getExecution(execution.executionId)).toMatchObject({ state: 'completed' });
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
    expect((await health.isHealthy('jobs')).jobs).toMatchObject({ status: 'down', workers: { expected: 1, running: 0 } });
  });

  it('a `* * * * * *` job runs once per second, on whole-second ticks', async () => {
    const ticks: number[] = [];
    const Job = defineJob('TickJob', { id: 'tick', cron: '* * * * * *' }, (ctx) => ticks.push(ctx.scheduledAt!.getTime()));
    const jobs = await boot({ jobs: [Job] });

    await waitFor('three ticks', () => ticks.length >= 3, 6_000);

    const sorted = [...ticks].sort((a, b) => a - b);
    expect(new Set(sorted).size).toBe(sorted.length);
    sorted.slice(1).forEach((t, i) => expect(t - sorted[i]).toBe(1000));
    const [recurring] = await jobs.listRecurring();
    expect(recurring).toMatchObject({ jobId: 'tick', cron: '* * * * * *', timezone: 'UTC', paused: false });
    expect(recurring.nextRunAt!.getTime()).toBeGreaterThan(Date.now() - 1000);
  });

  it('a delayed run is delayed, then runs no earlier than its time', async () => {
    const ranAt: number[] = [];
    const Job = defineJob('LaterJob', { id: 'later' }, () => ranAt.push(Date.now()));
    const jobs = await boot({ jobs: [Job] });
    const before = Date.now();

    const id = await jobs.enqueue(Job, undefined, { delayMs: 300 });
    expect((await jobs.getExecution(id))?.state).toBe('delayed');
    const execution = await waitFor('the delayed run', async () => {
      const e = await jobs.getExecution(id);
      return e?.state === 'completed' ? e : null;
    });

    expect(ranAt[0] - before).toBeGreaterThanOrEqual(290);
    expect(execution!.scheduledAt!.getTime()).toBeGreaterThanOrEqual(before + 300);
  });

  it('a dedupeKey returns the pending run instead of adding another', async () => {
    const Job = defineJob('DigestJob', { id: 'digest' });
    const jobs = await boot({ jobs: [Job] });

    const first = await jobs.enqueue(Job, { n: 1 }, { dedupeKey: 'user-7', delayMs: 10_000 });
    const second = await jobs.enqueue(Job, { n: 2 }, { dedupeKey: 'user-7', delayMs: 10_000 });

    expect(second).toBe(first);
    expect(await jobs.cancel(first)).toBe(true);
  });

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

    const [permanent, transient, clears] = await Promise.all([jobs.runNow(Permanent), jobs.runNow(Transient), jobs.runNow(Clears)]);

    expect(permanent).toMatchObject({ state: 'failed', attempts: 1, failure: { kind: 'permanent', message: 'invalid' } });
    expect(calls.permanent).toBe(1);
    expect(transient).toMatchObject({ state: 'failed', attempts: 3, failure: { kind: 'transient', message: '503' } });
    const gaps = calls.transient.slice(1).map((t, i) => t - calls.transient[i]);
    expect(gaps[0]).toBeGreaterThanOrEqual(90);
    expect(gaps[1]).toBeGreaterThan(gaps[0]);
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

  it('cancel: a delayed run never runs, a running run ends cancelled, unknown and finished ids give false', async () => {
    const ran: string[] = [];
    const Job = defineJob('CancellableJob', { id: 'cancellable' }, async (ctx: JobContext<{ name: string }>) => {
      ran.push(ctx.data.name);
      if (ctx.data.name === 'long') await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
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

  it('tenant captured at enqueue; a per-tenant fan-out runs every tenant and retries only the failing one', async () => {
    const attempts: Record<string, number> = {};
    const Job = defineJob('PerTenantJob', { id: 'per-tenant', tenancy: 'per-tenant', retry: { attempts: 2, backoffMs: 10 } }, (ctx) => {
      attempts[ctx.tenantId!] = (attempts[ctx.tenantId!] ?? 0) + 1;
      if (ctx.tenantId === 'b') throw new TransientJobError('b is down');
      return ctx.tenantId;
    });
    const jobs = await boot({ jobs: [Job], providers: [{ provide: TENANT_DIRECTORY, useValue: { listTenantIds: async () => ['a', 'b', 'c'] } }] });

    const single = await jobs.runNow(Job, { tenantId: 'c' });
    expect(single).toMatchObject({ state: 'completed', tenantId: 'c', result: 'c' });
    const parent = await jobs.runNow(Job);
    const children = (parent.result as { children: string[] }).children;
    const finals = await Promise.all(
      children.map((id) => waitFor(`child ${id}`, async () => {
        const e = await jobs.getExecution(id);
        return e && ['completed', 'failed'].includes(e.state) ? e : null;
      })),
    );

    expect(Object.fromEntries(finals.map((e) => [e!.tenantId, e!.state]))).toEqual({ a: 'completed', b: 'failed', c: 'completed' });
    expect(attempts).toEqual({ a: 1, b: 2, c: 2 });
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

  it('the job-level lock: two concurrent runs, one executes and one is skipped; ctx.lease carries a fencing token', async () => {
    let active = 0;
    let maxActive = 0;
    const fences: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const Job = defineJob('LockedJob', { id: 'locked', lock: { ttlMs: 3_000 } }, async (ctx) => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      fences.push(ctx.lease!.fencingToken);
      await gate;
      active -= 1;
    });
    const jobs = await boot({ jobs: [Job] });

    const runs = Promise.all([jobs.runNow(Job), jobs.runNow(Job)]);
    const skipped = await waitFor('one run to be skipped', async () => {
      const page = await jobs.listExecutions({ states: ['skipped'] });
      return page.items.length === 1 ? page.items[0] : null;
    });
    release();
    const states = (await runs).map((e) => e.state).sort();

    expect(states).toEqual(['completed', 'skipped']);
    expect(skipped!.skipReason).toBe(LOCK_BUSY('locked'));
    expect(maxActive).toBe(1);
    expect(fences).toHaveLength(1);
    const after = await jobs.runNow(Job);
    expect(after.state).toBe('completed');
    expect(fences[1]).toBeGreaterThan(fences[0]);
  });

  it('pause stops a recurring job, resume brings it back', async () => {
    const ticks: number[] = [];
    const Job = defineJob('PausableJob', { id: 'pausable', cron: '* * * * * *' }, () => ticks.push(Date.now()));
    const jobs = await boot({ jobs: [Job] });
    await waitFor('a first tick', () => ticks.length >= 1, 5_000);

    await jobs.pause('pausable');
    const pausedAt = Date.now();
    expect((await jobs.listRecurring())[0]).toMatchObject({ jobId: 'pausable', paused: true });
    // NOTE: an absence can only be observed over a window: 2.5 s covers two ticks of a one-second job.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(ticks.filter((t) => t > pausedAt + 100)).toEqual([]);

    await jobs.resume('pausable');
    const resumedAt = Date.now();
    await waitFor('a tick after resume', () => ticks.some((t) => t >= resumedAt), 5_000);
    expect((await jobs.listRecurring())[0]).toMatchObject({ paused: false });
  });
});
