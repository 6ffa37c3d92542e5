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
    const Custom = defineJob('CustomKeyJob', { id: 'custom-key', lock: { ttlMs: 5_000, key: 'shared-export' } }, (ctx) => {
      seen.push(ctx.lease);
    });
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
        reason = await new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(ctx.signal.reason), { once: true }));
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

  it('exports DistributedLock so a host can inject and use it', async () => {
    const app = await boot({ prefix, jobs: [] });
    const lock = app.get(DistributedLock);

    const outcome = await lock.withLock('host-owned', { ttlMs: 1_000 }, async (lease) => lease.fencingToken);

    expect(outcome).toEqual({ acquired: true, result: 1 });
    await waitFor('the lock to be released', async () => (await raw.exists(`${prefix}:bgj:lock:host-owned`)) === 0, 2_000);
  });
});
