import { BackgroundJobs, BackgroundJobsMetrics, TENANT_DIRECTORY } from 'nestjs-background-jobs';
import { INVALID_JOB_OPTION } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { defineJob, startJobsApp } from '../support/jobs-app';
import { waitFor } from '../support/redis';
import { describeContract } from './support/contract';

// Fairness between tenants as one process sees it, on every transport: every fairness case that needs neither a second
// process nor a fault lives here. The rest of fairness, by concern: across instances, kill -9 and a Redis restart in
// test/reliability/fairness.e2e-spec.ts; the round numbers of the Lua script in
// libs/background-jobs/src/adapters/bullmq/bullmq-scripts.spec.ts ('fair-rounds-2'); the REST listing of the backlog in
// test/e2e/operations.e2e-spec.ts ('GET tenants/backlog'); priority tiers within a fair job in
// test/flow-control/priority.e2e-spec.ts.
describeContract('fairness between tenants', (c) => {
  const { boot, transport, apps } = c;

  it("fairness 'tenant': a tenant's 20 runs enqueued after another tenant's 1,500 are taken round robin, not behind the flood", async () => {
    const concurrency = 5;
    const started: Array<string | null> = [];
    const finished: Array<string | null> = [];
    const Job = defineJob('FairJob', { id: 'fair', fairness: 'tenant' }, async (ctx) => {
      started.push(ctx.tenantId);
      await new Promise((resolve) => setTimeout(resolve, 10));
      finished.push(ctx.tenantId);
    });
    const jobs = await boot({ jobs: [Job], worker: { concurrency } });

    await Promise.all(Array.from({ length: 1_500 }, () => jobs.enqueue(Job, undefined, { tenantId: 'flood' })));
    await Promise.all(Array.from({ length: 20 }, () => jobs.enqueue(Job, undefined, { tenantId: 'quiet' })));
    // NOTE: counted once every quiet run is queued (the enqueues answered), not before they were sent: flood runs that
    // start while a slow host is still sending the 20 enqueues are not the round robin's doing.
    const floodStartedBefore = started.length;
    await waitFor("the quiet tenant's 20 runs", () => finished.filter((t) => t === 'quiet').length === 20, 20_000);

    const lastQuietStart = started.lastIndexOf('quiet');
    const floodStartedMeanwhile = started.slice(floodStartedBefore, lastQuietStart).filter((t) => t === 'flood').length;
    // NOTE: round robin lets at most one flood run start per quiet run, plus what was already taken when the quiet
    // runs arrived (one per worker slot) and what BullMQ's worker had fetched ahead (another slot's worth): 20 + 2 × 5.
    expect(floodStartedMeanwhile).toBeLessThanOrEqual(20 + 2 * concurrency);
    // The quiet runs did not wait for the flood to drain: flood runs were still queued when the last quiet one started
    // (a count, not the share of the flood done by then, which depends on how fast the host sends the enqueues).
    expect(started.slice(0, lastQuietStart).filter((t) => t === 'flood').length).toBeLessThan(1_500);
  }, 60_000);

  it('fairness with plain runs on the same queue: neither a plain flood nor a fair flood keeps the other side waiting behind it', async () => {
    const concurrency = 5;
    const started: string[] = [];
    const finished: string[] = [];
    const body = (kind: string) => async () => {
      started.push(kind);
      await new Promise((resolve) => setTimeout(resolve, 10));
      finished.push(kind);
    };
    const Fair = defineJob('SharedFairJob', { id: 'shared-fair', fairness: 'tenant' }, body('fair'));
    const Plain = defineJob('SharedPlainJob', { id: 'shared-plain' }, body('plain'));
    const jobs = await boot({ jobs: [Fair, Plain], worker: { concurrency } });

    // NOTE: one turn each per round; besides that, what was taken when the late runs arrived and what BullMQ's worker
    // fetched ahead, one slot's worth each: 20 + 2 × 5 flood runs at most start while the 20 late ones do.
    const floodDuring = (flood: string, late: string, before: number) =>
      started.slice(before, started.lastIndexOf(late)).filter((k) => k === flood).length;

    // NOTE: `before` is counted once the 20 late runs are queued (their enqueues answered), as in the test above.
    await Promise.all(Array.from({ length: 600 }, () => jobs.enqueue(Plain)));
    await Promise.all(Array.from({ length: 20 }, () => jobs.enqueue(Fair, undefined, { tenantId: 'quiet' })));
    let before = started.length;
    await waitFor(
      'the 20 fair runs behind a plain flood',
      () => finished.filter((k) => k === 'fair').length === 20,
      20_000,
    );
    expect(floodDuring('plain', 'fair', before)).toBeLessThanOrEqual(20 + 2 * concurrency);
    await waitFor('the plain flood to drain', () => finished.filter((k) => k === 'plain').length === 600, 30_000);

    await Promise.all(Array.from({ length: 600 }, () => jobs.enqueue(Fair, undefined, { tenantId: 'flood' })));
    await Promise.all(Array.from({ length: 20 }, () => jobs.enqueue(Plain)));
    before = started.length;
    await waitFor(
      'the 20 plain runs behind a fair flood',
      () => finished.filter((k) => k === 'plain').length === 620,
      20_000,
    );
    expect(floodDuring('fair', 'plain', before)).toBeLessThanOrEqual(20 + 2 * concurrency);
  }, 90_000);

  it('fairness { concurrencyPerTenant: 2 }: at most 2 runs of one tenant at once, host-level runs as one tenant, no attempt used by waiting', async () => {
    const runningNow = new Map<string | null, number>();
    const maxRunning = new Map<string | null, number>();
    const attempts = new Set<number>();
    const Job = defineJob(
      'CappedJob',
      { id: 'capped', fairness: { by: 'tenant', concurrencyPerTenant: 2 } },
      async (ctx) => {
        attempts.add(ctx.attempt);
        runningNow.set(ctx.tenantId, (runningNow.get(ctx.tenantId) ?? 0) + 1);
        maxRunning.set(ctx.tenantId, Math.max(maxRunning.get(ctx.tenantId) ?? 0, runningNow.get(ctx.tenantId)!));
        await new Promise((resolve) => setTimeout(resolve, 50));
        runningNow.set(ctx.tenantId, runningNow.get(ctx.tenantId)! - 1);
      },
    );
    const jobs = await boot({ jobs: [Job], worker: { concurrency: 5 } });

    const ids = await Promise.all(
      (['a', 'b', null] as const).flatMap((tenantId) =>
        Array.from({ length: 6 }, () => jobs.enqueue(Job, undefined, { tenantId })),
      ),
    );
    const executions = await waitFor(
      'all 18 runs to complete',
      async () => {
        const all = await Promise.all(ids.map((id) => jobs.getExecution(id)));
        return all.every((e) => e?.state === 'completed') ? all : undefined;
      },
      20_000,
    );

    expect(Object.fromEntries(maxRunning)).toEqual({ a: 2, b: 2, null: 2 });
    expect(executions!.filter((e) => e!.failure !== undefined)).toEqual([]);
    expect([...attempts]).toEqual([1]);
  }, 30_000);

  it("fairness { concurrencyPerTenant: 1 } on a queue of its own: the cap holds; on BullMQ its rounds are stored, on a cluster in the queue's hash slot", async () => {
    const runningNow = new Map<string | null, number>();
    const peak = new Map<string | null, number>();
    const Fair = defineJob(
      'FairQueueJob',
      { id: 'fair', queue: 'fair-q', fairness: { by: 'tenant', concurrencyPerTenant: 1 } },
      async (ctx) => {
        runningNow.set(ctx.tenantId, (runningNow.get(ctx.tenantId) ?? 0) + 1);
        peak.set(ctx.tenantId, Math.max(peak.get(ctx.tenantId) ?? 0, runningNow.get(ctx.tenantId)!));
        await new Promise((resolve) => setTimeout(resolve, 30));
        runningNow.set(ctx.tenantId, runningNow.get(ctx.tenantId)! - 1);
      },
    );
    const jobs = await boot({ jobs: [Fair], worker: { concurrency: 4 } });

    const ids = await Promise.all(
      ['t1', 't2'].flatMap((tenantId) => Array.from({ length: 4 }, () => jobs.enqueue(Fair, undefined, { tenantId }))),
    );
    await waitFor(
      'the 8 fair runs',
      async () => (await Promise.all(ids.map((id) => jobs.getExecution(id)))).every((e) => e?.state === 'completed'),
      20_000,
    );

    expect(Object.fromEntries(peak)).toEqual({ t1: 1, t2: 1 });
    if (!c.topology) return;
    const client = c.topology.client();
    try {
      if (c.topology.kind !== 'cluster') {
        expect(await client.exists(`${c.prefix}:bgj:fair:fair-q:rounds`)).toBe(1);
        return;
      }
      const rounds = `${c.prefix}:{fair-q}:bgj:fair:fair-q:rounds`;
      expect(await client.exists(rounds)).toBe(1);
      expect(await client.call('CLUSTER', 'KEYSLOT', rounds)).toBe(
        await client.call('CLUSTER', 'KEYSLOT', `${c.prefix}:{fair-q}:prioritized`),
      );
    } finally {
      client.disconnect();
    }
  }, 30_000);

  it('fairness: a bad value stops the boot naming the job, the value and the fix', async () => {
    const Job = defineJob('BadFairJob', { id: 'bad-fair', fairness: { by: 'tenant', concurrencyPerTenant: 0 } });

    await expect(boot({ jobs: [Job] })).rejects.toThrow(
      INVALID_JOB_OPTION('bad-fair', 'BadFairJob', 'fairness.concurrencyPerTenant', 0, 'an integer ≥ 1'),
    );
  });

  it('fairness: the tenant backlog metric names the 10 tenants with the most runs queued and sums the rest as (others)', async () => {
    const Job = defineJob('FairQueuedJob', { id: 'fair-queued', fairness: 'tenant' });
    const app = await startJobsApp({ prefix: c.prefix, transport, jobs: [Job], worker: false });
    apps.push(app);
    const jobs = app.get(BackgroundJobs);
    for (let i = 1; i <= 12; i++)
      await Promise.all(Array.from({ length: i }, () => jobs.enqueue(Job, undefined, { tenantId: `t${i}` })));
    await Promise.all(Array.from({ length: 20 }, () => jobs.enqueue(Job, undefined, { tenantId: null })));

    const gauge = await app
      .get(BackgroundJobsMetrics)
      .registry.getSingleMetric('background_jobs_tenant_backlog')!
      .get();
    const series = Object.fromEntries(gauge.values.map((v) => [v.labels.tenant, v.value]));

    expect(gauge.values.every((v) => v.labels.queue === 'background-jobs')).toBe(true);
    expect(series).toEqual({
      '(host)': 20,
      t12: 12,
      t11: 11,
      t10: 10,
      t9: 9,
      t8: 8,
      t7: 7,
      t6: 6,
      t5: 5,
      t4: 4,
      '(others)': 3 + 2 + 1,
    });
  });

  it("fairness on a per-tenant job: the fan-out's children are taken round robin with a tenant's flood already queued", async () => {
    const started: Array<string | null> = [];
    const Job = defineJob(
      'FairDigestJob',
      { id: 'fair-digest', tenancy: 'per-tenant', fairness: 'tenant' },
      async (ctx) => {
        started.push(ctx.tenantId);
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    );
    const tenants = ['a', 'b', 'c', 'd', 'e'];
    const jobs = await boot({
      jobs: [Job],
      worker: { concurrency: 2 },
      providers: [{ provide: TENANT_DIRECTORY, useValue: { listTenantIds: async () => tenants } }],
    });

    await Promise.all(Array.from({ length: 300 }, () => jobs.enqueue(Job, undefined, { tenantId: 'flood' })));
    await jobs.enqueue(Job, undefined, { tenantId: null });
    // NOTE: counted from when the fan-out is queued: flood runs that start while a slow host is still sending the 300
    // enqueues are not the round robin's doing.
    const floodStartedBefore = started.length;
    await waitFor('every tenant of the directory to run', () => tenants.every((t) => started.includes(t)), 20_000);

    // NOTE: the fan-out run (host level, one tenant of its own) and then each child wait about one round each, not
    // behind the 300 flood runs (a plain job starts all 300 first): well under half of the flood starts meanwhile.
    expect(started.slice(floodStartedBefore).filter((t) => t === 'flood').length).toBeLessThan(150);
  }, 30_000);
});
