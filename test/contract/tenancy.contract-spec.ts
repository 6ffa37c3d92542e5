import { TENANT_DIRECTORY, TransientJobError } from 'nestjs-background-jobs';
import { defineJob } from '../support/jobs-app';
import { waitFor } from '../support/redis';
import { describeContract } from './support/contract';

describeContract('tenancy: the tenant of a run and per-tenant fan-out', (c) => {
  const { boot } = c;

  it('tenant captured at enqueue; a per-tenant fan-out runs every tenant and retries only the failing one', async () => {
    const attempts: Record<string, number> = {};
    const Job = defineJob(
      'PerTenantJob',
      { id: 'per-tenant', tenancy: 'per-tenant', retry: { attempts: 2, backoffMs: 10 } },
      (ctx) => {
        attempts[ctx.tenantId!] = (attempts[ctx.tenantId!] ?? 0) + 1;
        if (ctx.tenantId === 'b') throw new TransientJobError('b is down');
        return ctx.tenantId;
      },
    );
    const jobs = await boot({
      jobs: [Job],
      providers: [{ provide: TENANT_DIRECTORY, useValue: { listTenantIds: async () => ['a', 'b', 'c'] } }],
    });

    const single = await jobs.runNow(Job, { tenantId: 'c' });
    expect(single).toMatchObject({ state: 'completed', tenantId: 'c', result: 'c' });
    const parent = await jobs.runNow(Job);
    const children = (parent.result as { children: string[] }).children;
    const finals = await Promise.all(
      children.map((id) =>
        waitFor(`child ${id}`, async () => {
          const e = await jobs.getExecution(id);
          return e && ['completed', 'failed'].includes(e.state) ? e : null;
        }),
      ),
    );

    expect(Object.fromEntries(finals.map((e) => [e!.tenantId, e!.state]))).toEqual({
      a: 'completed',
      b: 'failed',
      c: 'completed',
    });
    expect(attempts).toEqual({ a: 1, b: 2, c: 2 });
  });
});
