import { Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import {
  BackgroundJobs,
  BackgroundJobsModule,
  JobContext,
  JobInterceptor,
  TENANT_DIRECTORY,
  TenantContext,
} from 'nestjs-background-jobs';
import { JobRegistry, PipelineRunner, RunKind } from 'nestjs-background-jobs/core';
import { defineJob, startJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix } from '../support/redis';

describe('the pipeline runs its stages in the documented order (docs/concepts.md)', () => {
  let prefix: string;
  const apps: TestingModule[] = [];

  beforeEach(() => {
    prefix = randomPrefix('pipeline-order');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  it('host interceptors run innermost, in order: inside tenant context, schema and lock, around execute', async () => {
    const seen: string[] = [];
    const context: { tenant?: TenantContext } = {};
    const interceptor = (name: string): JobInterceptor => ({
      async intercept(ctx: JobContext, next) {
        const data = ctx.data as { parsed?: boolean };
        seen.push(
          `${name} in: tenant=${context.tenant?.tenantId} parsed=${data.parsed === true} lease=${ctx.lease !== undefined}`,
        );
        const result = await next();
        seen.push(`${name} out`);
        return result;
      },
    });
    const Job = defineJob(
      'OrderedJob',
      { id: 'ordered', lock: { ttlMs: 1_000 }, schema: (data: unknown) => ({ ...(data as object), parsed: true }) },
      () => {
        seen.push('execute');
        return 'ok';
      },
    );
    const app = await startJobsApp({
      prefix,
      jobs: [Job],
      interceptors: [interceptor('first'), interceptor('second')],
    });
    apps.push(app);
    context.tenant = app.get(TenantContext);

    const execution = await app.get(BackgroundJobs).runNow(Job, { data: {}, tenantId: 'acme' });

    expect(execution).toMatchObject({ state: 'completed', result: 'ok' });
    expect(seen).toEqual([
      'first in: tenant=acme parsed=true lease=true',
      'second in: tenant=acme parsed=true lease=true',
      'execute',
      'second out',
      'first out',
    ]);
  });

  it('an error thrown by an interceptor is classified and retried like the body’s (classify failures wraps it)', async () => {
    let calls = 0;
    const throwing: JobInterceptor = {
      async intercept() {
        calls += 1;
        throw new Error('interceptor down');
      },
    };
    const Job = defineJob('GuardedJob', { id: 'guarded', retry: { attempts: 2, backoffMs: 10 } });
    const app = await startJobsApp({ prefix, transport: 'local', jobs: [Job], interceptors: [throwing] });
    apps.push(app);

    const execution = await app.get(BackgroundJobs).runNow(Job);

    expect(execution).toMatchObject({
      state: 'failed',
      attempts: 2,
      failure: { kind: 'transient', message: 'interceptor down' },
    });
    expect(calls).toBe(2);
  });

  it('a job’s chain is the documented order with the stages it needs, and its fan-out the outer part only', async () => {
    const Full = defineJob('FullJob', {
      id: 'full',
      cron: '0 3 * * *',
      schema: (d: unknown) => d,
      lock: { ttlMs: 1_000 },
      tenancy: 'per-tenant',
    });
    const Plain = defineJob('PlainJob', { id: 'plain' });
    const app = await startJobsApp({
      prefix,
      transport: 'local',
      jobs: [Full, Plain],
      providers: [{ provide: TENANT_DIRECTORY, useValue: { listTenantIds: async () => [] } }],
      interceptors: [{ intercept: (_ctx, next) => next() }],
    });
    apps.push(app);
    const runner = app.get(PipelineRunner);
    const registry = app.get(JobRegistry);
    const names = (kind: RunKind, id: string) =>
      runner.chainOf(registry.get(id)!, kind).map((stage) => stage.constructor.name);

    expect(names('tick', 'full')).toEqual([
      'TenantContextStage',
      'AdmissionStage',
      'ObserveStage',
      'ClassifyFailureStage',
      'MisfireStage',
      'PauseStage',
      'LastRunStage',
      'TimeoutStage',
      'SchemaStage',
      'LockStage',
      'HostInterceptorsStage',
    ]);
    expect(names('fan-out-tick', 'full')).toEqual([
      'TenantContextStage',
      'ObserveStage',
      'ClassifyFailureStage',
      'MisfireStage',
      'PauseStage',
      'LastRunStage',
      'TimeoutStage',
    ]);
    // NOTE: one tenant's child of a fan-out executes the job: the whole chain but the schedule stages.
    expect(names('fan-out-child', 'full')).toEqual(names('plain', 'full'));
    expect(names('fan-out', 'full')).toEqual([
      'TenantContextStage',
      'ObserveStage',
      'ClassifyFailureStage',
      'LastRunStage',
      'TimeoutStage',
    ]);
    // NOTE: a run that is not a tick skips misfire and pause; a job with a decorator schedule still records it as its last run.
    expect(names('plain', 'full')).toEqual([
      'TenantContextStage',
      'AdmissionStage',
      'ObserveStage',
      'ClassifyFailureStage',
      'LastRunStage',
      'TimeoutStage',
      'SchemaStage',
      'LockStage',
      'HostInterceptorsStage',
    ]);
    expect(names('plain', 'plain')).toEqual([
      'TenantContextStage',
      'AdmissionStage',
      'ObserveStage',
      'ClassifyFailureStage',
      'TimeoutStage',
      'HostInterceptorsStage',
    ]);
    // NOTE: any job may have runtime schedules: their ticks pass the schedule stages.
    expect(names('tick', 'plain')).toEqual([
      'TenantContextStage',
      'AdmissionStage',
      'ObserveStage',
      'ClassifyFailureStage',
      'MisfireStage',
      'PauseStage',
      'LastRunStage',
      'TimeoutStage',
      'HostInterceptorsStage',
    ]);
  });
});

describe('discovery', () => {
  const apps: TestingModule[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  const boot = async (imports: any[], providers: any[] = []) => {
    const app = await Test.createTestingModule({ imports, providers }).compile();
    app.useLogger(false);
    await app.init();
    apps.push(app);
    return app;
  };

  it('finds @PipelineJob providers made by a factory or given as a value (from their instance), once through an alias', async () => {
    const FromFactory = defineJob('FactoryMadeJob', { id: 'factory-made' }, () => 'factory');
    const AsValue = defineJob('ValueJob', { id: 'as-value' }, () => 'value');
    const Aliased = defineJob('AliasedJob', { id: 'aliased' }, () => 'aliased');
    const app = await boot(
      [BackgroundJobsModule.forRoot({ transport: { type: 'local' } })],
      [
        { provide: 'FACTORY_JOB', useFactory: () => new FromFactory() },
        { provide: 'VALUE_JOB', useValue: new AsValue() },
        Aliased,
        { provide: 'ALIAS', useExisting: Aliased },
      ],
    );
    const jobs = app.get(BackgroundJobs);

    expect((await jobs.runNow('factory-made')).result).toBe('factory');
    expect((await jobs.runNow(AsValue)).result).toBe('value');
    expect((await jobs.runNow(Aliased)).result).toBe('aliased');
  });

  it('forRootAsync discovers jobs like forRoot', async () => {
    const Job = defineJob('AsyncModuleJob', { id: 'async-module' }, () => 'async');
    @Module({ providers: [Job] })
    class JobsModule {}
    const app = await boot([
      BackgroundJobsModule.forRootAsync({ useFactory: async () => ({ transport: { type: 'local' as const } }) }),
      JobsModule,
    ]);

    expect(await app.get(BackgroundJobs).runNow(Job)).toMatchObject({ state: 'completed', result: 'async' });
  });
});
