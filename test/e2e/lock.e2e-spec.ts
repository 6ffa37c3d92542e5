import { TestingModule } from '@nestjs/testing';
import IORedis from 'ioredis';
import { BackgroundJobs, DistributedLock, JobContext, JobLeaseInfo } from 'nestjs-background-jobs';
import { LOCK_BUSY } from 'nestjs-background-jobs/contracts';
import { defineJob, startJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../support/redis';

describe('job-level lock: @PipelineJob({ lock })', () => {
  let prefix: string;
  let raw: IORedis;
  const apps: TestingModule[] = [];

  const boot = async (...args: Parameters<typeof startJobsApp>): Promise<TestingModule> => {
    const app = await startJobsApp(...args);
    apps.push(app);
    return app;
  };

  beforeEach(() => {
    prefix = randomPrefix('lockjob');
    raw = new IORedis(testRedisUrl());
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    raw.disconnect();
    await deletePrefix(prefix);
  });

  it('two runs started at once from two app instances: exactly one executes, the other is skipped', async () => {
    let active = 0;
    let maxActive = 0;
    let executed = 0;
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const Exclusive = defineJob('ExclusiveJob', { id: 'exclusive', lock: { ttlMs: 5_000 } }, async () => {
      active++;
      executed++;
      maxActive = Math.max(maxActive, active);
      await gate;
      active--;
    });
    const first = (await boot({ prefix, jobs: [Exclusive] })).get(BackgroundJobs);
    const second = (await boot({ prefix, jobs: [Exclusive] })).get(BackgroundJobs);

    const runs = [first.runNow(Exclusive), second.runNow(Exclusive)];
    // NOTE: the executing run waits on the gate, so whichever finishes first overlapped it and was turned away.
    const early = await Promise.race(runs);
    openGate();
    const executions = await Promise.all(runs);

    expect(early.state).toBe('skipped');
    expect(early.skipReason).toBe(LOCK_BUSY('exclusive'));
    expect(executions.map((e) => e.state).sort()).toEqual(['completed', 'skipped']);
    expect(executed).toBe(1);
    expect(maxActive).toBe(1);
    expect(await raw.exists(`${prefix}:bgj:lock:exclusive`)).toBe(0);
  });

  it('ctx.lease exposes the key and a fencing token that grows run after run', async () => {
    const leases: JobLeaseInfo[] = [];
    const Fenced = defineJob('FencedJob', { id: 'fenced', lock: { ttlMs: 5_000 } }, (ctx) => {
      leases.push({ ...ctx.lease! });
    });
    const jobs = (await boot({ prefix, jobs: [Fenced] })).get(BackgroundJobs);

    expect((await jobs.runNow(Fenced)).state).toBe('completed');
    expect((await jobs.runNow(Fenced)).state).toBe('completed');

    expect(leases[0].key).toBe('fenced');
    expect(leases[1].fencingToken).toBeGreaterThan(leases[0].fencingToken);
  });

  it('keys a tenant’s run by job id and tenant, and honours lock.key', async () => {
    const seen: Array<JobLeaseInfo | undefined> = [];
    const PerTenant = defineJob('TenantLockedJob', { id: 'tenant-locked', lock: { ttlMs: 5_000 } }, (ctx) => {
      seen.push(ctx.lease);
    });
    const Custom = defineJob(
      'CustomKeyJob',
      { id: 'custom-key', lock: { ttlMs: 5_000, key: 'shared-export' } },
      (ctx) => {
        seen.push(ctx.lease);
      },
    );
    const jobs = (await boot({ prefix, jobs: [PerTenant, Custom] })).get(BackgroundJobs);

    await jobs.runNow(PerTenant, { tenantId: 'acme' });
    await jobs.runNow(Custom);

    expect(seen.map((lease) => lease?.key)).toEqual(['tenant-locked:acme', 'shared-export']);
  });

  it('a lease lost mid-run aborts ctx.signal with lock-lost; the run ends failed, kind lock-lost, not retried', async () => {
    let attempts = 0;
    let reason: unknown;
    const Fragile = defineJob(
      'FragileJob',
      { id: 'fragile', lock: { ttlMs: 600 }, retry: { attempts: 3, backoffMs: 10 } },
      async (ctx: JobContext) => {
        attempts++;
        await raw.del(`${prefix}:bgj:lock:fragile`); // another party takes the key away
        reason = await new Promise((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve(ctx.signal.reason), { once: true }),
        );
      },
    );
    const jobs = (await boot({ prefix, jobs: [Fragile] })).get(BackgroundJobs);

    const execution = await jobs.runNow(Fragile);

    expect(execution.state).toBe('failed');
    expect(execution.failure?.kind).toBe('lock-lost');
    expect(execution.failure?.message).toContain('Lock "fragile" was lost');
    expect(reason).toMatchObject({ kind: 'lock-lost' });
    // NOTE: 'failed' is final: a retry would have kept the run 'delayed' (and runNow waiting) instead of failing it.
    expect(attempts).toBe(1);
    expect((await jobs.getExecution(execution.executionId))?.attempts).toBe(1);
  });

  it('the key is free once a run’s completion can be seen: 60 runs alternating between two instances, none skipped', async () => {
    let executed = 0;
    const Serial = defineJob('SerialJob', { id: 'serial', lock: { ttlMs: 5_000 } }, () => {
      executed++;
    });
    const instances = [
      (await boot({ prefix, jobs: [Serial] })).get(BackgroundJobs),
      (await boot({ prefix, jobs: [Serial] })).get(BackgroundJobs),
    ];

    const states: string[] = [];
    const heldAfterCompletion: number[] = [];
    for (let i = 0; i < 60; i++) {
      const execution = await instances[i % 2].runNow(Serial);
      states.push(execution.state);
      heldAfterCompletion.push(await raw.exists(`${prefix}:bgj:lock:serial`));
    }

    expect(states.filter((state) => state !== 'completed')).toEqual([]);
    expect(executed).toBe(60);
    expect(heldAfterCompletion.filter((held) => held !== 0)).toEqual([]);
  });

  it('sends the release on the connection that records the run’s outcome, ahead of it (no wait for its reply)', async () => {
    const Ordered = defineJob('OrderedJob', { id: 'ordered', lock: { ttlMs: 5_000 } }, () => undefined);
    const jobs = (await boot({ prefix, jobs: [Ordered] })).get(BackgroundJobs);
    await jobs.runNow(Ordered); // the scripts are loaded and the worker's connection known
    const monitor = await raw.monitor();
    const seen: Array<{ args: string[]; source: string }> = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ args, source }));
    try {
      const { executionId } = await jobs.runNow(Ordered);
      const lockKey = `${prefix}:bgj:lock:ordered`;
      const acquire = seen.findIndex(({ args }) => args.includes(lockKey) && args.includes('a'));
      const release = seen.findIndex(({ args }) => args.includes(lockKey) && args.includes('r'));
      expect(acquire).toBeGreaterThanOrEqual(0);
      expect(release).toBeGreaterThan(acquire);
      // The lock's own connection takes the acquire; the release goes on another: the worker's, which then records
      // the outcome (BullMQ's moveToFinished names the job's key).
      expect(seen[release].source).not.toBe(seen[acquire].source);
      const outcome = seen.findIndex(
        ({ args, source }, index) =>
          index > release && source === seen[release].source && args.some((arg) => arg.endsWith(`:${executionId}`)),
      );
      expect(outcome).toBeGreaterThan(release);
    } finally {
      monitor.disconnect();
    }
  });

  it('a release sent ahead that fails (the script cache flushed mid-run) is done again on the lock’s connection', async () => {
    const Flushing = defineJob('FlushingJob', { id: 'flushing', lock: { ttlMs: 60_000 } }, async () => {
      await raw.script('FLUSH');
    });
    const jobs = (await boot({ prefix, jobs: [Flushing] })).get(BackgroundJobs);
    await jobs.runNow(Flushing);

    const execution = await jobs.runNow(Flushing);

    expect(execution.state).toBe('completed');
    // NOTE: without the retry the key would stay held for its 60 s TTL.
    await waitFor(
      'the lock to be released',
      async () => (await raw.exists(`${prefix}:bgj:lock:flushing`)) === 0,
      2_000,
    );
    expect((await jobs.runNow(Flushing)).state).toBe('completed');
  });

  it('exports DistributedLock so a host can inject and use it', async () => {
    const app = await boot({ prefix, jobs: [] });
    const lock = app.get(DistributedLock);

    const outcome = await lock.withLock('host-owned', { ttlMs: 1_000 }, async (lease) => lease.fencingToken);

    expect(outcome).toEqual({ acquired: true, result: 1 });
    await waitFor(
      'the lock to be released',
      async () => (await raw.exists(`${prefix}:bgj:lock:host-owned`)) === 0,
      2_000,
    );
  });
});
