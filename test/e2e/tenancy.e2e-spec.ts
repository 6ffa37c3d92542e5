import { Body, Controller, INestApplication, Module, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EventEmitter } from 'node:events';
import { ClsModule } from 'nestjs-cls';
import request from 'supertest';
import {
  BackgroundJobs,
  BackgroundJobsModule,
  InvalidJobInputError,
  JobContext,
  PipelineJob,
  TENANT_DIRECTORY,
  TenantContext,
  TransientJobError,
} from 'nestjs-background-jobs';
import { INVALID_TENANT_ID } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { defineJob, startJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../support/redis';

const directory = (tenants: string[] | (() => Promise<string[]>)) => ({
  provide: TENANT_DIRECTORY,
  useValue: { listTenantIds: typeof tenants === 'function' ? tenants : async () => tenants },
});

describe('tenant context', () => {
  let prefix: string;
  const closers: Array<() => Promise<unknown>> = [];

  beforeEach(() => {
    prefix = randomPrefix('tenancy');
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await deletePrefix(prefix);
  });

  const boot = async (...args: Parameters<typeof startJobsApp>) => {
    const app = await startJobsApp(...args);
    closers.push(() => app.close());
    return app;
  };

  it('200 concurrent runs over 17 tenants at concurrency 50: every run sees its own tenant, nothing leaks', async () => {
    const tenants = Array.from({ length: 17 }, (_, i) => `tenant-${i}`);
    const mismatches: string[] = [];
    const seen = new Map<string, string | null>();
    const holder: { tenant?: TenantContext } = {};
    const bus = new EventEmitter();
    const Probe = defineJob(
      'TenantProbeJob',
      { id: 'tenant-probe' },
      async (ctx: JobContext<{ expected: string; n: number }>) => {
        const check = (where: string) => {
          if (ctx.tenantId !== ctx.data.expected || holder.tenant!.tenantId !== ctx.data.expected) {
            mismatches.push(
              `${where} run ${ctx.data.n}: ctx=${ctx.tenantId} cls=${holder.tenant!.tenantId} expected=${ctx.data.expected}`,
            );
          }
        };
        check('start');
        await new Promise((r) => setTimeout(r, 1 + (ctx.data.n % 7)));
        check('after timer');
        await Promise.resolve().then(() => check('in promise'));
        await new Promise<void>((resolve) => {
          bus.once(`tick-${ctx.executionId}`, () => {
            check('in EventEmitter callback');
            resolve();
          });
          setImmediate(() => bus.emit(`tick-${ctx.executionId}`));
        });
        await new Promise((r) => setTimeout(r, ctx.data.n % 3));
        check('end');
        seen.set(ctx.executionId, holder.tenant!.tenantId);
        return holder.tenant!.tenantId;
      },
    );
    const app = await boot({ prefix, jobs: [Probe], worker: { concurrency: 50 } });
    const tenant = app.get(TenantContext);
    holder.tenant = tenant;
    const jobs = app.get(BackgroundJobs);

    const outside: Array<string | null> = [];
    const sampler = setInterval(() => outside.push(tenant.tenantId), 2);
    try {
      const ids = await Promise.all(
        Array.from({ length: 200 }, (_, n) =>
          jobs.enqueue(Probe, { expected: tenants[n % 17], n }, { tenantId: tenants[n % 17] }),
        ),
      );
      const executions = await Promise.all(ids.map((id) => waitFinal(jobs, id)));
      expect(executions.map((e) => e!.state)).toEqual(ids.map(() => 'completed'));
      executions.forEach((execution, n) => {
        expect(execution!.tenantId).toBe(tenants[n % 17]);
        expect(execution!.result).toBe(tenants[n % 17]);
      });
    } finally {
      clearInterval(sampler);
    }
    expect(mismatches).toEqual([]);
    expect(seen.size).toBe(200);
    expect(outside.length).toBeGreaterThan(0);
    expect(outside.filter((t) => t !== null)).toEqual([]);
    expect(tenant.tenantId).toBeNull();
  });

  it('an HTTP request carrying a tenant header enqueues a job and the worker sees that tenant', async () => {
    const seen: Array<{ ctx: string | null; cls: string | null }> = [];
    const holder: { tenant?: TenantContext } = {};
    @PipelineJob({ id: 'send-report' })
    class SendReportJob {
      execute(ctx: JobContext<{ reportId: number }>) {
        seen.push({ ctx: ctx.tenantId, cls: holder.tenant!.tenantId });
        return ctx.data.reportId;
      }
    }
    @Controller('reports')
    class ReportsController {
      constructor(private readonly jobs: BackgroundJobs) {}
      @Post()
      async create(@Body() body: { reportId: number }) {
        return { executionId: await this.jobs.enqueue(SendReportJob, body) };
      }
    }
    @Module({
      imports: [
        ClsModule.forRoot({
          global: true,
          middleware: { mount: true, setup: (cls, req) => cls.set('tenantId', req.headers['x-tenant-id']) },
        }),
        BackgroundJobsModule.forRoot({ transport: { type: 'bullmq', connection: { url: testRedisUrl() }, prefix } }),
      ],
      controllers: [ReportsController],
      providers: [SendReportJob],
    })
    class HostModule {}
    const moduleRef = await Test.createTestingModule({ imports: [HostModule] }).compile();
    const http: INestApplication = moduleRef.createNestApplication({ logger: false });
    await http.init();
    closers.push(() => http.close());
    holder.tenant = http.get(TenantContext);

    const response = await request(http.getHttpServer())
      .post('/reports')
      .set('x-tenant-id', 'acme')
      .send({ reportId: 7 })
      .expect(201);

    const execution = await waitFinal(http.get(BackgroundJobs), response.body.executionId);
    expect(execution).toMatchObject({ state: 'completed', tenantId: 'acme', result: 7 });
    expect(seen).toEqual([{ ctx: 'acme', cls: 'acme' }]);
  });

  it('a per-tenant fan-out over three tenants with one failing: the other two complete, only the failing one is retried', async () => {
    const attempts = new Map<string, number>();
    const Nightly = defineJob(
      'NightlyPerTenantJob',
      { id: 'nightly-per-tenant', tenancy: 'per-tenant', retry: { attempts: 3, backoffMs: 50 } },
      (ctx) => {
        attempts.set(ctx.tenantId!, (attempts.get(ctx.tenantId!) ?? 0) + 1);
        if (ctx.tenantId === 'beta') throw new TransientJobError('beta database is down');
        return `done for ${ctx.tenantId}`;
      },
    );
    const app = await boot({ prefix, jobs: [Nightly], providers: [directory(['alpha', 'beta', 'gamma'])] });
    const jobs = app.get(BackgroundJobs);

    const parent = await waitFinal(jobs, await jobs.trigger(Nightly));
    expect(parent.failure).toBeUndefined();
    expect(parent.state).toBe('completed');
    const { tenants, children } = parent.result as { tenants: number; children: string[] };
    expect(tenants).toBe(3);
    const finals = await Promise.all(children.map((id) => waitFinal(jobs, id)));
    const byTenant = Object.fromEntries(finals.map((e) => [e.tenantId, e]));

    expect(byTenant.alpha).toMatchObject({ state: 'completed', result: 'done for alpha' });
    expect(byTenant.gamma).toMatchObject({ state: 'completed', result: 'done for gamma' });
    expect(byTenant.beta).toMatchObject({
      state: 'failed',
      failure: { kind: 'transient', message: 'beta database is down' },
    });
    expect(Object.fromEntries(attempts)).toEqual({ alpha: 1, beta: 3, gamma: 1 });
  });

  it('a per-tenant recurring tick fans out once per (tenant, tick); re-adding a tick’s children adds nothing', async () => {
    const runs: string[] = [];
    const Hourly = defineJob(
      'EverySecondPerTenantJob',
      { id: 'every-second-per-tenant', tenancy: 'per-tenant', cron: '* * * * * *' },
      (ctx) => {
        runs.push(`${ctx.tenantId}|${ctx.executionId}`);
      },
    );
    const app = await boot({ prefix, jobs: [Hourly], providers: [directory(['t1', 't2'])] });
    await waitFor('two ticks for two tenants', () => runs.length >= 4, 8_000);
    expect(new Set(runs).size).toBe(runs.length);

    const { RunQueue, JobRegistry, childExecutionId } = await import('nestjs-background-jobs/core');
    const { Queue } = await import('bullmq');
    const queue = new Queue('background-jobs', { connection: { url: testRedisUrl() }, prefix });
    closers.push(() => queue.close());
    const [parent] = (await queue.getCompleted()).filter((job) => job.id!.startsWith('repeat:'));
    const definition = app.get(JobRegistry).get('every-second-per-tenant')!;
    const ids = ['t1', 't2'].map((tenantId) => childExecutionId(definition.id, parent.id!, tenantId));
    expect(parent.returnvalue.value.children.sort()).toEqual([...ids].sort());

    const again = await app.get(RunQueue).enqueueMany(
      definition,
      ids.map((id, n) => ({ id, tenantId: `t${n + 1}`, data: undefined })),
    );

    expect(again.sort()).toEqual([...ids].sort());
    for (const id of ids) expect((await app.get(BackgroundJobs).getExecution(id))?.state).toBe('completed');
  });

  it('runNow(job, { tenantId }) runs that tenant alone', async () => {
    const ran: Array<string | null> = [];
    const Sync = defineJob('SyncJob', { id: 'sync', tenancy: 'per-tenant' }, (ctx) => ran.push(ctx.tenantId));
    const app = await boot({ prefix, jobs: [Sync], providers: [directory(['a', 'b', 'c'])] });

    const execution = await app.get(BackgroundJobs).runNow(Sync, { tenantId: 'b' });

    expect(execution).toMatchObject({ state: 'completed', tenantId: 'b' });
    expect(ran).toEqual(['b']);
  });

  it('a directory that throws fails the fan-out as transient, which is retried', async () => {
    let calls = 0;
    const ran: string[] = [];
    const Job = defineJob(
      'FlakyDirectoryJob',
      { id: 'flaky-directory', tenancy: 'per-tenant', retry: { attempts: 3, backoffMs: 20 } },
      (ctx) => {
        ran.push(ctx.tenantId!);
      },
    );
    const app = await boot({
      prefix,
      jobs: [Job],
      providers: [
        directory(async () => {
          calls += 1;
          if (calls === 1) throw new Error('directory service unavailable');
          return ['only'];
        }),
      ],
    });
    const jobs = app.get(BackgroundJobs);

    const parent = await waitFinal(jobs, await jobs.trigger(Job));

    expect(parent).toMatchObject({ state: 'completed', attempts: 2 });
    expect(calls).toBe(2);
    await waitFor('the child run', () => ran.length === 1, 5_000);
    expect(ran).toEqual(['only']);
  });

  it.each([
    ['an empty string', ''],
    ['a 129-character string', 'x'.repeat(129)],
    ['a control character', 'acme\n'],
    ['a number', 42],
  ])('enqueue rejects %s as tenantId and enqueues nothing', async (_label, tenantId) => {
    const Job = defineJob('PlainJob', { id: 'plain' });
    const app = await boot({ prefix, jobs: [Job], worker: false });
    const jobs = app.get(BackgroundJobs);

    await expect(jobs.enqueue(Job, {}, { tenantId: tenantId as string })).rejects.toThrow(
      new InvalidJobInputError(INVALID_TENANT_ID('plain', tenantId)),
    );

    const { Queue } = await import('bullmq');
    const queue = new Queue('background-jobs', { connection: { url: testRedisUrl() }, prefix });
    closers.push(() => queue.close());
    expect(await queue.count()).toBe(0);
  });
});

async function waitFinal(jobs: BackgroundJobs, id: string) {
  const execution = await waitFor(
    `execution ${id} to finish`,
    async () => {
      const e = await jobs.getExecution(id);
      return e && ['completed', 'failed', 'cancelled', 'skipped'].includes(e.state) ? e : null;
    },
    20_000,
  );
  return execution!;
}
