import {
  CanActivate,
  ExecutionContext,
  INestApplication,
  Injectable,
  Type,
  UnauthorizedException,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import request from 'supertest';
import {
  BackgroundJobs,
  BackgroundJobsHealthIndicator,
  BackgroundJobsModule,
  BackgroundJobsModuleOptions,
  InvalidJobInputError,
  JobContext,
  PermanentJobError,
} from 'nestjs-background-jobs';
import {
  ASYNC_OPERATIONS_MISPLACED,
  CONFLICTING_QUERY,
  EXECUTION_NOT_FOUND,
  INVALID_QUERY,
  MAXMEMORY_POLICY_WARNING,
  INVALID_SCHEDULE_BODY,
  RECURRING_NOT_FOUND,
  SCHEDULE_NOT_FOUND,
} from 'nestjs-background-jobs/operations/operations.messages';
import {
  INVALID_SCHEDULE,
  NOT_RECURRING,
  RETRY_NOT_FAILED,
  SCHEDULE_ID_TAKEN,
  UNKNOWN_JOB,
} from 'nestjs-background-jobs/contracts';
import { OpsModule } from '../../apps/sample-app/src/ops/ops.module';
import { OpsTokenGuard } from '../../apps/sample-app/src/ops/ops-token.guard';
import { defineJob, startHttpJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../support/redis';

const TOKEN = 'test-ops-token';

@Injectable()
class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>()
      .headers.authorization;
    if (header !== `Bearer ${TOKEN}`) throw new UnauthorizedException('a bearer token is required');
    return true;
  }
}

describe('operations surface (HTTP)', () => {
  let prefix: string;
  const apps: INestApplication[] = [];
  const queues: Queue[] = [];

  const boot = (jobs: Type[], options: Partial<BackgroundJobsModuleOptions> = {}): Promise<INestApplication> =>
    startHttpJobsApp(apps, prefix, jobs, { operations: { guard: TokenGuard }, ...options });
  const plainQueue = (): Queue => {
    const queue = new Queue('background-jobs', { connection: { url: testRedisUrl() }, prefix });
    queues.push(queue);
    return queue;
  };
  const auth = { Authorization: `Bearer ${TOKEN}` };

  beforeEach(() => {
    prefix = randomPrefix('ops');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
    await deletePrefix(prefix);
  });

  it('is not mounted without a guard', async () => {
    const Job = defineJob('NightlyJob', { id: 'nightly', cron: '0 2 * * *' });
    const app = await boot([Job], { operations: undefined });

    await request(app.getHttpServer()).get('/jobs/recurring').set(auth).expect(404);
    await request(app.getHttpServer()).get('/jobs/executions').set(auth).expect(404);
  });

  it('refuses to boot with operations but no guard', async () => {
    const Job = defineJob('NightlyJob', { id: 'nightly', cron: '0 2 * * *' });
    await expect(boot([Job], { operations: { guard: undefined as never } })).rejects.toThrow(
      /operations.guard is required/,
    );
  });

  it('forRootAsync mounts the surface from operations given beside useFactory, and refuses one returned by the factory', async () => {
    const Job = defineJob('NightlyJob', { id: 'nightly', cron: '0 2 * * *' });
    const transport = { type: 'bullmq' as const, connection: { url: testRedisUrl() }, prefix };
    const mounted = await Test.createTestingModule({
      imports: [
        BackgroundJobsModule.forRootAsync({
          operations: { guard: TokenGuard, path: 'ops' },
          useFactory: () => ({ transport }),
        }),
      ],
      providers: [Job],
    }).compile();
    const app = mounted.createNestApplication({ logger: false });
    apps.push(app);
    await app.init();
    await request(app.getHttpServer()).get('/ops/recurring').expect(401);
    await request(app.getHttpServer()).get('/ops/recurring').set(auth).expect(200);

    await expect(
      Test.createTestingModule({
        imports: [
          BackgroundJobsModule.forRootAsync({ useFactory: () => ({ transport, operations: { guard: TokenGuard } }) }),
        ],
        providers: [Job],
      }).compile(),
    ).rejects.toThrow(ASYNC_OPERATIONS_MISPLACED);
  });

  it('answers 401 on every route without credentials, and under a configured path', async () => {
    const Job = defineJob('NightlyJob', { id: 'nightly', cron: '0 2 * * *' });
    const app = await boot([Job], { operations: { guard: TokenGuard, path: '/admin/jobs/' } });
    const server = app.getHttpServer();
    const routes: Array<['get' | 'post' | 'put' | 'delete', string]> = [
      ['get', '/admin/jobs/executions'],
      ['get', '/admin/jobs/executions/x'],
      ['post', '/admin/jobs/executions/x/cancel'],
      ['post', '/admin/jobs/executions/x/retry'],
      ['get', '/admin/jobs/recurring'],
      ['post', '/admin/jobs/recurring/nightly/pause'],
      ['post', '/admin/jobs/recurring/nightly/resume'],
      ['post', '/admin/jobs/recurring/nightly/trigger'],
      ['put', '/admin/jobs/schedules/nightly:extra'],
      ['delete', '/admin/jobs/schedules/nightly:extra'],
      ['get', '/admin/jobs/metrics'],
    ];
    for (const [method, path] of routes) {
      await request(server)[method](path).expect(401);
      await request(server)[method](path).set({ Authorization: 'Bearer wrong' }).expect(401);
    }
    expect((await plainQueue().getJobSchedulers(0, -1)).map((s) => s.key)).toEqual(['nightly']);
    await request(server).get('/admin/jobs/recurring').set(auth).expect(200);
  });

  it('lists, filters and paginates executions; detail shows progress, logs, attempts and failure', async () => {
    const Report = defineJob('ReportJob', { id: 'report' }, async (ctx: JobContext<{ n: number }>) => {
      await ctx.reportProgress(40, 'loaded rows');
      await ctx.log(`report ${ctx.data.n} done`);
      await ctx.reportProgress(100);
      return ctx.data.n;
    });
    const Broken = defineJob('BrokenJob', { id: 'broken' }, () => {
      throw new PermanentJobError('the template is missing');
    });
    const app = await boot([Report, Broken]);
    const jobs = app.get(BackgroundJobs);
    const server = app.getHttpServer();
    const done = [];
    for (let n = 1; n <= 3; n++)
      done.push(await jobs.runNow(Report, { data: { n }, tenantId: n === 2 ? 'acme' : null }));
    const failed = await jobs.runNow(Broken);
    expect(failed.state).toBe('failed');

    const all = await request(server).get('/jobs/executions').set(auth).expect(200);
    expect(all.body.total).toBe(4);
    expect(all.body.items.map((e: { executionId: string }) => e.executionId)).toEqual(
      [failed, ...done.slice().reverse()].map((e) => e.executionId),
    );

    const byJob = await request(server)
      .get('/jobs/executions?jobId=report&state=completed&limit=2&offset=1')
      .set(auth)
      .expect(200);
    expect(byJob.body).toMatchObject({ total: 3, offset: 1, limit: 2 });
    expect(byJob.body.items.map((e: { executionId: string }) => e.executionId)).toEqual([
      done[1].executionId,
      done[0].executionId,
    ]);

    const byPage = await request(server).get('/jobs/executions?jobId=report&page=2&size=2').set(auth).expect(200);
    expect(byPage.body.items.map((e: { executionId: string }) => e.executionId)).toEqual([done[0].executionId]);

    const byTenant = await request(server).get('/jobs/executions?tenantId=acme').set(auth).expect(200);
    expect(byTenant.body.items.map((e: { executionId: string }) => e.executionId)).toEqual([done[1].executionId]);
    const hostOnly = await request(server).get('/jobs/executions?tenantId=-&jobId=report').set(auth).expect(200);
    expect(hostOnly.body.total).toBe(2);

    const failedOnly = await request(server).get('/jobs/executions?state=failed,cancelled').set(auth).expect(200);
    expect(failedOnly.body.items).toHaveLength(1);
    expect(failedOnly.body.items[0]).toMatchObject({
      jobId: 'broken',
      state: 'failed',
      failure: { kind: 'permanent', message: 'the template is missing' },
    });

    const detail = await request(server).get(`/jobs/executions/${done[2].executionId}`).set(auth).expect(200);
    expect(detail.body).toMatchObject({
      jobId: 'report',
      state: 'completed',
      progress: 100,
      attempts: 1,
      result: 3,
      logs: ['loaded rows', 'report 3 done'],
      logCount: 2,
    });
    expect(Date.parse(detail.body.createdAt)).toBeLessThanOrEqual(Date.parse(detail.body.startedAt));
    expect(Date.parse(detail.body.startedAt)).toBeLessThanOrEqual(Date.parse(detail.body.finishedAt));

    const failedDetail = await request(server).get(`/jobs/executions/${failed.executionId}`).set(auth).expect(200);
    expect(failedDetail.body).toMatchObject({
      state: 'failed',
      attempts: 1,
      failure: { kind: 'permanent', message: 'the template is missing' },
    });
  });

  it('answers 400 naming the field for bad filters and pagination', async () => {
    const Report = defineJob('ReportJob', { id: 'report' });
    const app = await boot([Report]);
    const server = app.getHttpServer();
    const bad: Array<[string, string]> = [
      ['limit=0', INVALID_QUERY('limit', '0', 'an integer from 1 to 200')],
      ['limit=abc', INVALID_QUERY('limit', 'abc', 'an integer from 1 to 200')],
      ['offset=-1', INVALID_QUERY('offset', '-1', 'an integer ≥ 0')],
      ['page=0', INVALID_QUERY('page', '0', 'an integer ≥ 1')],
      ['size=1000', INVALID_QUERY('size', '1000', 'an integer from 1 to 200')],
      [
        'state=done',
        INVALID_QUERY(
          'state',
          'done',
          'one or more (comma-separated) of pending, delayed, running, completed, failed, cancelled, skipped',
        ),
      ],
      ['jobId=nope', INVALID_QUERY('jobId', 'nope', 'a registered job id: report')],
      ['offset=1&page=2', CONFLICTING_QUERY('offset', 'page')],
      ['limit=1&limit=2', INVALID_QUERY('limit', ['1', '2'], 'a single value')],
    ];
    for (const [query, message] of bad) {
      const res = await request(server).get(`/jobs/executions?${query}`).set(auth).expect(400);
      expect(res.body.message).toBe(message);
    }
  });

  it('GET tenants/backlog lists the top tenants of each fair queue with the rest summed; a bad top or queue is a 400', async () => {
    const Fair = defineJob('FairImportJob', { id: 'fair-import', fairness: 'tenant' });
    const app = await boot([Fair], { worker: false });
    const server = app.getHttpServer();
    const jobs = app.get(BackgroundJobs);
    for (let i = 1; i <= 5; i++)
      await Promise.all(Array.from({ length: i }, () => jobs.enqueue(Fair, undefined, { tenantId: `t${i}` })));
    await Promise.all(Array.from({ length: 7 }, () => jobs.enqueue(Fair, undefined, { tenantId: null })));

    const res = await request(server).get('/jobs/tenants/backlog?top=3').set(auth).expect(200);

    expect(res.body).toEqual([
      {
        queue: 'background-jobs',
        tenants: [
          { tenantId: null, queued: 7 },
          { tenantId: 't5', queued: 5 },
          { tenantId: 't4', queued: 4 },
        ],
        others: { tenants: 3, queued: 3 + 2 + 1 },
      },
    ]);
    for (const [query, message] of [
      ['top=0', INVALID_QUERY('top', '0', 'an integer from 1 to 100')],
      ['queue=nope', INVALID_QUERY('queue', 'nope', 'a queue of fair jobs: background-jobs')],
      ['tenant=t1', INVALID_QUERY('tenant', 't1', 'one of the parameters top, queue')],
    ]) {
      expect((await request(server).get(`/jobs/tenants/backlog?${query}`).set(auth).expect(400)).body.message).toBe(
        message,
      );
    }
  });

  it('cancel, retry and detail answer 404 for unknown ids; retry is for failed runs only; cancel for unfinished ones', async () => {
    let calls = 0;
    const Flaky = defineJob('FlakyJob', { id: 'flaky' }, () => {
      calls++;
      if (calls === 1) throw new PermanentJobError('first call fails');
      return 'second call works';
    });
    const app = await boot([Flaky]);
    const jobs = app.get(BackgroundJobs);
    const server = app.getHttpServer();

    for (const [method, path] of [
      ['get', '/jobs/executions/nope'],
      ['post', '/jobs/executions/nope/cancel'],
      ['post', '/jobs/executions/nope/retry'],
    ] as const) {
      const res = await request(server)[method](path).set(auth).expect(404);
      expect(res.body.message).toBe(EXECUTION_NOT_FOUND('nope'));
    }

    const failed = await jobs.runNow(Flaky);
    expect(failed.state).toBe('failed');
    await request(server)
      .post(`/jobs/executions/${failed.executionId}/retry`)
      .set(auth)
      .expect(200, { executionId: failed.executionId, retried: true });
    const retried = await waitFor('the retried run to complete', async () => {
      const e = await jobs.getExecution(failed.executionId);
      return e?.state === 'completed' ? e : null;
    });
    expect(retried?.result).toBe('second call works');
    expect(calls).toBe(2);

    const again = await request(server).post(`/jobs/executions/${failed.executionId}/retry`).set(auth).expect(409);
    expect(again.body.message).toBe(RETRY_NOT_FAILED(failed.executionId, 'completed'));
    const late = await request(server).post(`/jobs/executions/${failed.executionId}/cancel`).set(auth).expect(409);
    expect(late.body.message).toMatch(/is completed; only pending, delayed or running runs can be cancelled/);

    const delayed = await jobs.enqueue(Flaky, undefined, { delayMs: 60_000 });
    expect((await request(server).get(`/jobs/executions/${delayed}`).set(auth).expect(200)).body.state).toBe('delayed');
    await request(server)
      .post(`/jobs/executions/${delayed}/cancel`)
      .set(auth)
      .expect(200, { executionId: delayed, cancelled: true });
    expect(calls).toBe(2);
    expect((await jobs.getExecution(delayed))?.state).toBe('cancelled');
  });

  it('lists recurring jobs, triggers them, and answers 404 for unknown or non-recurring ids', async () => {
    const runs: string[] = [];
    const Nightly = defineJob('NightlyJob', { id: 'nightly', cron: '0 2 * * *', timezone: 'Europe/Berlin' }, (ctx) => {
      runs.push(ctx.executionId);
    });
    const OneOff = defineJob('OneOffJob', { id: 'one-off' });
    const app = await boot([Nightly, OneOff]);
    const server = app.getHttpServer();

    const list = await request(server).get('/jobs/recurring').set(auth).expect(200);
    expect(list.body).toHaveLength(1);
    expect(list.body[0]).toMatchObject({
      jobId: 'nightly',
      cron: '0 2 * * *',
      timezone: 'Europe/Berlin',
      paused: false,
    });
    expect(Date.parse(list.body[0].nextRunAt)).toBeGreaterThan(Date.now());
    expect(list.body[0].lastRun).toBeUndefined();

    const triggered = await request(server).post('/jobs/recurring/nightly/trigger').set(auth).expect(202);
    await waitFor('the triggered run', () => runs.includes(triggered.body.executionId));
    const after = await waitFor('lastRun to be completed', async () => {
      const body = (await request(server).get('/jobs/recurring').set(auth).expect(200)).body;
      return body[0].lastRun?.state === 'completed' ? body[0] : null;
    });
    expect(after.lastRun.executionId).toBe(triggered.body.executionId);

    const jobs = app.get(BackgroundJobs);
    await expect(jobs.pause('nope')).rejects.toThrow(new InvalidJobInputError(NOT_RECURRING('nope', 'pause')));
    await expect(jobs.trigger('nope')).rejects.toThrow(
      new InvalidJobInputError(UNKNOWN_JOB('nope', ['nightly', 'one-off'])),
    );
    await expect(jobs.resume(OneOff)).rejects.toThrow(new InvalidJobInputError(NOT_RECURRING('one-off', 'resume')));

    for (const action of ['pause', 'resume', 'trigger']) {
      const unknown = await request(server).post(`/jobs/recurring/nope/${action}`).set(auth).expect(404);
      expect(unknown.body.message).toBe(RECURRING_NOT_FOUND('nope', ['nightly']));
      await request(server).post(`/jobs/recurring/one-off/${action}`).set(auth).expect(404);
    }
  });

  it('PUT and DELETE schedules/:id create, replace and remove a runtime schedule; a bad body is a 400 naming the field', async () => {
    const payloads: unknown[] = [];
    const Report = defineJob('ReportJob', { id: 'report' }, (ctx) => {
      payloads.push(ctx.data);
    });
    const app = await boot([Report]);
    const server = app.getHttpServer();

    const created = await request(server)
      .put('/jobs/schedules/report:acme')
      .set(auth)
      .send({ jobId: 'report', everyMs: 1_000, data: { v: 1 }, tenantId: 'acme' })
      .expect(200);
    expect(created.body).toMatchObject({
      scheduleId: 'report:acme',
      source: 'runtime',
      jobId: 'report',
      everyMs: 1_000,
      tenantId: 'acme',
      data: { v: 1 },
    });
    await waitFor('a tick with the payload', () => payloads.some((p) => (p as { v: number }).v === 1), 3_000);
    const startDate = new Date(Date.now() + 60_000).toISOString();
    const replaced = await request(server)
      .put('/jobs/schedules/report:acme')
      .set(auth)
      .send({ jobId: 'report', cron: '0 6 * * *', startDate })
      .expect(200);
    expect(replaced.body).toMatchObject({ scheduleId: 'report:acme', cron: '0 6 * * *', startDate });
    expect(
      (await request(server).get('/jobs/recurring').set(auth).expect(200)).body.map(
        (r: { scheduleId: string }) => r.scheduleId,
      ),
    ).toEqual(['report:acme']);
    await request(server).post('/jobs/recurring/report:acme/pause').set(auth).expect(200);

    const bad: Array<[object, string]> = [
      [{ everyMs: 1_000 }, INVALID_SCHEDULE_BODY('jobId', undefined, 'the id of a @PipelineJob')],
      [
        { jobId: 'report', everyMs: 1_000, startDate: 'soon' },
        INVALID_SCHEDULE_BODY('startDate', 'soon', 'an ISO 8601 date string'),
      ],
      [
        { jobId: 'report', everyMs: -5 },
        INVALID_SCHEDULE('report:bad', 'everyMs', -5, 'a positive integer (milliseconds)'),
      ],
    ];
    for (const [body, message] of bad) {
      expect(
        (await request(server).put('/jobs/schedules/report:bad').set(auth).send(body).expect(400)).body.message,
      ).toBe(message);
    }
    expect(
      (
        await request(server)
          .put('/jobs/schedules/report')
          .set(auth)
          .send({ jobId: 'report', everyMs: 1_000 })
          .expect(400)
      ).body.message,
    ).toBe(SCHEDULE_ID_TAKEN('report', 'upsert'));

    await request(server)
      .delete('/jobs/schedules/report:acme')
      .set(auth)
      .expect(200, { scheduleId: 'report:acme', removed: true });
    expect((await request(server).delete('/jobs/schedules/report:acme').set(auth).expect(404)).body.message).toBe(
      SCHEDULE_NOT_FOUND('report:acme'),
    );
    expect((await request(server).get('/jobs/recurring').set(auth).expect(200)).body).toEqual([]);
  });

  it('pause stops a one-second job for three seconds, survives a restart, and resume restarts it', async () => {
    const started: number[] = [];
    const Tick = defineJob('TickJob', { id: 'tick', cron: '* * * * * *' }, (ctx: JobContext) => {
      started.push(ctx.scheduledAt!.getTime());
    });
    const app = await boot([Tick]);
    const server = app.getHttpServer();
    await waitFor('a first tick', () => started.length >= 1);

    const paused = await request(server).post('/jobs/recurring/tick/pause').set(auth).expect(200);
    expect(paused.body).toMatchObject({ jobId: 'tick', paused: true });
    expect(paused.body.nextRunAt).toBeUndefined();
    const pausedAt = Date.now();
    expect(await plainQueue().getJobSchedulers(0, -1)).toHaveLength(0);

    // A second instance booting while paused must not bring the schedule back.
    const OtherTick = defineJob('TickJob', { id: 'tick', cron: '* * * * * *' }, (ctx: JobContext) => {
      started.push(ctx.scheduledAt!.getTime());
    });
    await boot([OtherTick]);

    // NOTE: an absence can only be observed over a window: 3 s holds three ticks of the one-second cron on both instances.
    // NOTE: judged by each tick's scheduled time (`started` holds them) from after the pause answered: a tick due
    // while the call was on its way may still run, however late a slow host starts it; none due after it may.
    await waitFor('three seconds after the pause', () => Date.now() - pausedAt >= 3_000, 5_000, 100);
    expect(started.filter((t) => t > pausedAt)).toEqual([]);
    expect(await plainQueue().getJobSchedulers(0, -1)).toHaveLength(0);

    const resumed = await request(server).post('/jobs/recurring/tick/resume').set(auth).expect(200);
    expect(resumed.body).toMatchObject({ jobId: 'tick', paused: false });
    const resumedAt = Date.now();
    await waitFor('a tick after resume', () => started.some((t) => t > resumedAt), 5_000);
    expect(await plainQueue().getJobSchedulers(0, -1)).toHaveLength(1);
  });

  it('the worker skips ticks of a job whose pause flag landed before its scheduler was removed', async () => {
    const started: number[] = [];
    const Tick = defineJob('TickJob', { id: 'tick', cron: '* * * * * *' }, (ctx: JobContext) => {
      started.push(ctx.scheduledAt!.getTime());
    });
    const app = await boot([Tick]);
    await waitFor('a first tick', () => started.length >= 1);
    // NOTE: what another instance's pause() looks like between its two steps: flag written, scheduler still there.
    const redis = new IORedis(testRedisUrl());
    try {
      await redis.hset(`${prefix}:bgj:paused`, 'tick', '{}');
    } finally {
      redis.disconnect();
    }
    const flaggedAt = Date.now();
    const skipped = await waitFor('a skipped tick', async () => {
      const page = await app.get(BackgroundJobs).listExecutions({ jobId: 'tick', states: ['skipped'] });
      return page.items[0];
    });
    expect(skipped.skipReason).toBe('Job "tick" is paused.');
    // NOTE: by scheduled time, from after the flag was written: a tick due before it may start late on a slow host.
    expect(started.filter((t) => t > flaggedAt)).toEqual([]);
  });

  it('keeps completed and failed history by count (defaults.history and a per-job override)', async () => {
    const Ok = defineJob('OkJob', { id: 'ok' }, () => 'ok');
    const Bad = defineJob('BadJob', { id: 'bad', history: { failed: { count: 1 } } }, () => {
      throw new PermanentJobError('no');
    });
    const app = await boot([Ok, Bad], { defaults: { history: { completed: { count: 2 }, failed: { count: 3 } } } });
    const jobs = app.get(BackgroundJobs);
    const ok = [];
    for (let i = 0; i < 5; i++) ok.push(await jobs.runNow(Ok));
    for (let i = 0; i < 3; i++) await jobs.runNow(Bad);

    const queue = plainQueue();
    expect(await queue.getCompletedCount()).toBe(2);
    expect(await queue.getFailedCount()).toBe(1);
    expect((await queue.getCompleted()).map((j) => j.id).sort()).toEqual(
      ok
        .slice(3)
        .map((e) => e.executionId)
        .sort(),
    );
    expect(await jobs.getExecution(ok[0].executionId)).toBeNull();
  });

  it('exposes Prometheus metrics: runs by outcome and failure kind, durations, queue depth', async () => {
    const Ok = defineJob('OkJob', { id: 'ok' }, () => 'ok');
    const Bad = defineJob('BadJob', { id: 'bad' }, () => {
      throw new PermanentJobError('no');
    });
    const app = await boot([Ok, Bad]);
    const jobs = app.get(BackgroundJobs);
    await jobs.runNow(Ok);
    await jobs.runNow(Ok);
    await jobs.runNow(Bad);
    await jobs.enqueue(Ok, undefined, { delayMs: 60_000 });

    const text = (
      await request(server(app))
        .get('/jobs/metrics')
        .set(auth)
        .expect(200)
        .expect('content-type', /text\/plain/)
    ).text;
    expect(text).toContain('background_jobs_runs_total{job="ok",outcome="completed",failure_kind="none"} 2');
    expect(text).toContain('background_jobs_runs_total{job="bad",outcome="failed",failure_kind="permanent"} 1');
    expect(text).toContain('background_jobs_run_duration_seconds_count{job="ok",outcome="completed"} 2');
    expect(text).toContain('background_jobs_queue_depth{queue="background-jobs",state="delayed"} 1');
    expect(text).toContain('background_jobs_queue_depth{queue="background-jobs",state="completed"} 2');
    expect(text).toContain('# TYPE background_jobs_lock_skips_total counter');
  });

  it('health: up with Redis and workers; warns when maxmemory-policy is not noeviction; down past maxBacklog', async () => {
    const Ok = defineJob('OkJob', { id: 'ok' }, () => 'ok');
    const app = await boot([Ok]);
    const health = app.get(BackgroundJobsHealthIndicator);

    const up = await health.isHealthy('jobs');
    expect(up.jobs).toMatchObject({
      status: 'up',
      redis: 'up',
      maxmemoryPolicy: 'noeviction',
      workers: { expected: 1, running: 1 },
      backlog: 0,
    });

    const redis = new IORedis(testRedisUrl());
    try {
      await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const warned = await health.isHealthy('jobs');
      expect(warned.jobs).toMatchObject({
        status: 'up',
        maxmemoryPolicy: 'allkeys-lru',
        warnings: [MAXMEMORY_POLICY_WARNING('allkeys-lru')],
      });
    } finally {
      await redis.config('SET', 'maxmemory-policy', 'noeviction');
      redis.disconnect();
    }
    await app.get(BackgroundJobs).enqueue(Ok, undefined, { delayMs: 60_000 });
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    await plainQueue().add('ok', {});
    await plainQueue().add('ok', {});
    const producerOnly = await boot([defineJob('OkJob', { id: 'ok' })], { worker: false });
    const producerHealth = producerOnly.get(BackgroundJobsHealthIndicator);
    expect((await producerHealth.isHealthy('jobs')).jobs).toMatchObject({
      status: 'up',
      workers: { expected: 0, running: 0 },
      backlog: 2,
    });
    expect((await producerHealth.isHealthy('jobs', { maxBacklog: 1 })).jobs).toMatchObject({
      status: 'down',
      message: 'Backlog of 2 waiting jobs exceeds maxBacklog 1.',
    });
  });
});

describe('sample app: /jobs and bull-board behind OPS_TOKEN', () => {
  let prefix: string;
  let app: INestApplication | undefined;
  const savedToken = process.env.OPS_TOKEN;

  beforeEach(async () => {
    prefix = randomPrefix('ops-sample');
    process.env.OPS_TOKEN = 'sample-secret';
    const Nightly = defineJob('NightlyJob', { id: 'nightly', cron: '0 2 * * *' });
    const moduleRef = await Test.createTestingModule({
      imports: [
        BackgroundJobsModule.forRoot({
          transport: { type: 'bullmq', connection: { url: testRedisUrl() }, prefix },
          operations: { guard: OpsTokenGuard },
        }),
        OpsModule.forRoot({ redis: { url: testRedisUrl() }, prefix }),
      ],
      providers: [Nightly],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    if (savedToken === undefined) delete process.env.OPS_TOKEN;
    else process.env.OPS_TOKEN = savedToken;
    await deletePrefix(prefix);
  });

  it('bull-board page, API and static assets answer 401/403 without the token and 200 with it', async () => {
    const http = server(app as INestApplication);
    const good = { Authorization: 'Bearer sample-secret' };
    const page = await request(http).get('/admin/queues').set(good).expect(200).expect('content-type', /html/);
    const asset = /src="((?:[^"]*\/)?static\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(asset).toBeDefined();
    const assetPath = new URL(asset as string, 'http://x/admin/queues/').pathname;
    await request(http).get(assetPath).set(good).expect(200);
    const queues = await request(http).get('/admin/queues/api/queues').set(good).expect(200);
    expect(JSON.stringify(queues.body)).toContain('background-jobs');
    await request(http).get('/jobs/recurring').set(good).expect(200);

    for (const path of ['/admin/queues', assetPath, '/admin/queues/api/queues', '/jobs/recurring']) {
      await request(http).get(path).expect(401);
      await request(http).get(path).set({ Authorization: 'Bearer sample-secreT' }).expect(403);
    }
    delete process.env.OPS_TOKEN;
    for (const path of ['/admin/queues', assetPath, '/jobs/recurring']) {
      const closed = await request(http).get(path).set(good).expect(403);
      expect(closed.body.message).toMatch(/set OPS_TOKEN/);
    }
  });

  it('GET /health reports Redis, workers and backlog', async () => {
    const res = await request(server(app as INestApplication))
      .get('/health')
      .expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.info['background-jobs']).toMatchObject({
      status: 'up',
      redis: 'up',
      workers: { expected: 1, running: 1 },
    });
  });
});

const server = (app: INestApplication) => app.getHttpServer();
