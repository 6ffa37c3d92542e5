import {
  BackgroundJobs,
  BatchSummary,
  InvalidJobInputError,
  PermanentJobError,
  TENANT_DIRECTORY,
} from 'nestjs-background-jobs';
import { EMPTY_BATCH } from 'nestjs-background-jobs/contracts/composition.messages';
import { appsPerTest, defineJob, TransportKind } from '../support/jobs-app';
import { waitFor } from '../support/redis';

const transports: TransportKind[] = ['bullmq', 'local'];

const directory = (tenants: string[]) => ({
  provide: TENANT_DIRECTORY,
  useValue: { listTenantIds: async () => tenants },
});

describe.each(transports)("a per-tenant job's batch on %s", (transport) => {
  const { boot } = appsPerTest('batch-tenants');

  const jobsOf = () => {
    const seen: (BatchSummary | undefined)[] = [];
    const ran: Array<string | null> = [];
    const Report = defineJob('TenantReportJob', { id: 'tenant-report', tenancy: 'per-tenant' }, (ctx) => {
      ran.push(ctx.tenantId);
      if (ctx.tenantId === 'globex') throw new PermanentJobError('globex has no data this week');
      return { tenant: ctx.tenantId, week: (ctx.data as { week: string }).week };
    });
    const Notify = defineJob('NotifyAdminJob', { id: 'notify-admin' }, (ctx) => {
      seen.push(ctx.batch);
    });
    return { seen, ran, jobs: [Report, Notify] };
  };

  it('one child per tenant of the directory; the completion callback runs once and sees per-tenant counts', async () => {
    const { seen, ran, jobs } = jobsOf();
    const app = await boot({
      transport,
      jobs,
      providers: [directory(['acme', 'globex', 'initech'])],
      worker: { concurrency: 3 },
    });
    const api = app.get(BackgroundJobs);

    const { batchId, executionIds } = await api.batch([{ job: 'tenant-report', data: { week: '2026-W49' } }], {
      onComplete: { job: 'notify-admin' },
    });

    expect(executionIds).toHaveLength(3);
    await waitFor('the completion callback ran', () => (seen.length ? true : null), 15_000);
    const one = (completed: number, failed: number) => ({ total: 1, completed, failed, cancelled: 0, pending: 0 });
    const summary = {
      batchId,
      total: 3,
      completed: 2,
      failed: 1,
      cancelled: 0,
      pending: 0,
      state: 'failed',
      tenants: { acme: one(1, 0), globex: one(0, 1), initech: one(1, 0) },
    };
    expect(seen).toEqual([summary]);
    expect([...ran].sort()).toEqual(['acme', 'globex', 'initech']);
    expect(await api.getBatch(batchId)).toEqual(summary);
    const children = await Promise.all(executionIds.map((id) => api.getExecution(id)));
    expect(children.map((c) => c?.tenantId).sort()).toEqual(['acme', 'globex', 'initech']);
    process.stdout.write(`[batch-tenants/${transport}] ${JSON.stringify(seen[0]?.tenants)}\n`);
  });

  it('mixed with runs for named tenants, each tenant counts its own children; runs with no tenant are in no tenant', async () => {
    const { seen, jobs } = jobsOf();
    const app = await boot({ transport, jobs, providers: [directory(['acme', 'initech'])] });
    const api = app.get(BackgroundJobs);

    const { batchId } = await api.batch(
      [
        { job: 'tenant-report', data: { week: 'w' } },
        { job: 'tenant-report', data: { week: 'w' }, tenantId: 'acme' },
        { job: 'notify-admin', tenantId: null },
      ],
      { onComplete: { job: 'notify-admin' } },
    );

    await waitFor('the completion callback ran', () => (seen.some((s) => s?.batchId === batchId) ? true : null));
    expect(await api.getBatch(batchId)).toMatchObject({
      total: 4,
      completed: 4,
      state: 'succeeded',
      tenants: {
        acme: { total: 2, completed: 2, failed: 0, cancelled: 0, pending: 0 },
        initech: { total: 1, completed: 1, failed: 0, cancelled: 0, pending: 0 },
      },
    });
  });

  it('a directory with no tenants: InvalidJobInputError, nothing enqueued', async () => {
    const { jobs } = jobsOf();
    const app = await boot({ transport, jobs, providers: [directory([])] });
    const api = app.get(BackgroundJobs);

    await expect(api.batch([{ job: 'tenant-report' }])).rejects.toThrow(new InvalidJobInputError(EMPTY_BATCH(true)));
    expect((await api.listExecutions()).total).toBe(0);
  });

  it("a timeout cancels the tenants' children still running and counts them in their tenant", async () => {
    const seen: (BatchSummary | undefined)[] = [];
    const Slow = defineJob('SlowTenantJob', { id: 'slow-tenant', tenancy: 'per-tenant', timeoutMs: 60_000 }, (ctx) =>
      ctx.tenantId === 'globex'
        ? new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)))
        : 'done',
    );
    const Notify = defineJob('TimeoutNotifyJob', { id: 'timeout-notify' }, (ctx) => {
      seen.push(ctx.batch);
    });
    const app = await boot({ transport, jobs: [Slow, Notify], providers: [directory(['acme', 'globex'])] });
    const api = app.get(BackgroundJobs);

    await api.batch([{ job: 'slow-tenant' }], { onComplete: { job: 'timeout-notify' }, timeoutMs: 1_000 });

    // NOTE: bound: the 1 s timeout, a 500 ms sweep on BullMQ, the abort and the callback's run, 8 s for load.
    await waitFor('the completion callback ran', () => (seen.length ? true : null), 1_000 + 8_000);
    expect(seen[0]).toMatchObject({
      completed: 1,
      cancelled: 1,
      state: 'failed',
      tenants: {
        acme: { total: 1, completed: 1, failed: 0, cancelled: 0, pending: 0 },
        globex: { total: 1, completed: 0, failed: 0, cancelled: 1, pending: 0 },
      },
    });
  });
});
