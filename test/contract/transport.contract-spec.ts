import { TestingModule } from '@nestjs/testing';
import {
  BackgroundJobs,
  BackgroundJobsHealthIndicator,
  BackgroundJobsMetrics,
  InvalidJobInputError,
  JobContext,
  PermanentJobError,
  TENANT_DIRECTORY,
  TransientJobError,
  WaitTimeoutError,
} from 'nestjs-background-jobs';
import {
  INVALID_JOB_OPTION,
  INVALID_LOG_LIMIT,
  LOCK_BUSY,
  PAUSED_SKIP,
  RETRY_NOT_FAILED,
  WAIT_TIMEOUT,
} from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { retryDelayMs } from 'nestjs-background-jobs/core/retry-policy';
import { defineJob, startJobsApp, TransportKind } from '../support/jobs-app';
import { randomPrefix, waitFor } from '../support/redis';
import { RedisTopology, RedisTopologyKind, startTopology } from '../support/redis-topology';

type ContractTarget = 'local' | `bullmq ${RedisTopologyKind}`;

/**
 * One contract, every transport: everything a job author can observe in one process behaves the same on
 * BullMQ (over one Redis, a Redis Cluster and a Sentinel-managed master) and on the embedded transport.
 */
describe.each<ContractTarget>(['bullmq standalone', 'local', 'bullmq cluster', 'bullmq sentinel'])(
  'transport contract: %s',
  (target) => {
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

    it('a `* * * * * *` job runs once per second, on whole-second ticks', async () => {
      const ticks: number[] = [];
      const Job = defineJob('TickJob', { id: 'tick', cron: '* * * * * *' }, (ctx) =>
        ticks.push(ctx.scheduledAt!.getTime()),
      );
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

      const [permanent, transient, clears] = await Promise.all([
        jobs.runNow(Permanent),
        jobs.runNow(Transient),
        jobs.runNow(Clears),
      ]);

      expect(permanent).toMatchObject({
        state: 'failed',
        attempts: 1,
        failure: { kind: 'permanent', message: 'invalid' },
      });
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
    /** Waits for the clock to move past `since` (ms), so that runs created after it sort after it. */
    const nextMillisecond = (since: number) => waitFor('the next millisecond', () => Date.now() > since, 1_000, 1);

    /** The value of `background_jobs_runs_total` for one job and outcome (0 when never counted). */
    const runsTotal = async (app: TestingModule, job: string, outcome: string): Promise<number> => {
      const metric = await app.get(BackgroundJobsMetrics).registry.getSingleMetric('background_jobs_runs_total')!.get();
      return metric.values
        .filter((v) => v.labels.job === job && v.labels.outcome === outcome)
        .reduce((sum, v) => sum + v.value, 0);
    };

    it('getExecutionLogs returns the last N lines, oldest first, with the total count; a limit below 1 is refused', async () => {
      const Job = defineJob('ChattyJob', { id: 'chatty' }, async (ctx) => {
        for (let i = 1; i <= 5; i++) await ctx.log(`line ${i}`);
        await ctx.reportProgress(100, 'done');
      });
      const jobs = await boot({ jobs: [Job] });
      const { executionId } = await jobs.runNow(Job);

      expect(await jobs.getExecutionLogs(executionId, 3)).toEqual({ lines: ['line 4', 'line 5', 'done'], count: 6 });
      expect(await jobs.getExecutionLogs(executionId)).toEqual({
        lines: ['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'done'],
        count: 6,
      });
      expect(await jobs.getExecutionLogs('unknown-id', 3)).toBeNull();
      expect(() => jobs.getExecutionLogs(executionId, 0)).toThrow(
        new InvalidJobInputError(INVALID_LOG_LIMIT(executionId, 0)),
      );
    });

    it("misfire 'skip': a tick late past misfireThresholdMs only because the worker was busy runs, late, and is not skipped", async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const ran: number[] = [];
      const Job = defineJob(
        'LateTickJob',
        { id: 'late-tick', cron: '* * * * * *', misfire: 'skip', misfireThresholdMs: 1_000 },
        async (ctx) => {
          ran.push(ctx.scheduledAt!.getTime());
          if (ran.length === 1) await gate;
        },
      );
      const app = await startApp({ jobs: [Job], worker: { concurrency: 1 } });
      apps.push(app);
      const jobs = app.get(BackgroundJobs);
      await waitFor('the first tick to run', () => ran.length === 1, 5_000);

      // NOTE: the next tick waits behind the first (BullMQ keeps it delayed until the worker fetches again); once it is
      // more than one tick + the 1 s misfireThresholdMs late, a later tick was due, yet the worker ran all along.
      const late = await waitFor(
        'a queued tick late by more than 2 s',
        async () => {
          const pending = (await jobs.listExecutions({ jobId: 'late-tick', states: ['pending', 'delayed'] })).items;
          return pending.find((e) => e.scheduledAt && Date.now() - e.scheduledAt.getTime() > 2_200);
        },
        8_000,
      );
      release();
      const finished = await waitFor('the late tick to end', async () => {
        const e = await jobs.getExecution(late!.executionId);
        return e && !['pending', 'delayed', 'running'].includes(e.state) ? e : null;
      });

      expect(finished).toMatchObject({ state: 'completed' });
      expect(ran).toContain(late!.scheduledAt!.getTime());
      expect(await runsTotal(app, 'late-tick', 'skipped')).toBe(0);
    });

    it("a paused job's tick that reaches a worker is skipped as paused and counted as skipped; listRecurring shows the last run", async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const ran: string[] = [];
      const Job = defineJob(
        'QueuedTickJob',
        { id: 'queued-tick', cron: '* * * * * *', misfire: 'run-once' },
        async (ctx) => {
          ran.push(ctx.executionId);
          if (ran.length === 1) await gate;
        },
      );
      const app = await startApp({ jobs: [Job], worker: { concurrency: 1 } });
      apps.push(app);
      const jobs = app.get(BackgroundJobs);
      await waitFor('the first tick to run', () => ran.length === 1, 5_000);
      if (transport === 'local') {
        // NOTE: here pause() stops the schedule while a tick already waits behind the first one.
        await waitFor(
          'a tick queued behind it',
          async () => (await jobs.listExecutions({ jobId: 'queued-tick', states: ['pending'] })).items[0],
          5_000,
        );
        await jobs.pause('queued-tick');
      } else {
        // NOTE: pause() removes the next delayed tick with the scheduler; what reaches a worker is another instance's pause
        // seen between its two steps: the flag written, the scheduler (and its next tick) still there.
        // NOTE: on a cluster the framework's keys carry a hash tag (docs/operations.md#production-redis).
        const redis = topology!.client();
        const pausedKey = topology!.kind === 'cluster' ? `{${prefix}:bgj}:paused` : `${prefix}:bgj:paused`;
        await redis.hset(pausedKey, 'queued-tick', '{}').finally(() => redis.disconnect());
      }
      release();
      const skipped = await waitFor(
        'a skipped tick',
        async () => (await jobs.listExecutions({ jobId: 'queued-tick', states: ['skipped'] })).items[0],
        5_000,
      );

      expect(skipped).toMatchObject({ skipReason: PAUSED_SKIP('queued-tick') });
      expect(ran).toEqual([ran[0]]);
      expect(await runsTotal(app, 'queued-tick', 'skipped')).toBeGreaterThanOrEqual(1);
      expect(await runsTotal(app, 'queued-tick', 'completed')).toBe(1);
      expect((await jobs.listRecurring())[0]).toMatchObject({ lastRun: { executionId: ran[0], state: 'completed' } });
    });

    it('retry(): a failed run runs again as a fresh attempt; a run that is not failed is refused; backoff grows as retryDelayMs says', async () => {
      const started: number[] = [];
      let failing = true;
      const Job = defineJob('FlakyJob', { id: 'flaky', retry: { attempts: 3, backoffMs: 100 } }, () => {
        started.push(Date.now());
        if (failing) throw new TransientJobError('down');
        return 'up';
      });
      const jobs = await boot({ jobs: [Job] });

      const failed = await jobs.runNow(Job);
      expect(failed).toMatchObject({ state: 'failed', attempts: 3 });
      const gaps = started.slice(1).map((t, i) => t - started[i]);
      // NOTE: a retry never runs early; 5 ms of slack for timer rounding.
      expect(gaps[0]).toBeGreaterThanOrEqual(retryDelayMs({ backoffMs: 100 }, 1) - 5);
      expect(gaps[1]).toBeGreaterThanOrEqual(retryDelayMs({ backoffMs: 100 }, 2) - 5);
      failing = false;
      expect(await jobs.retry(failed.executionId)).toBe(true);
      const retried = await waitFor('the retried run', async () => {
        const e = await jobs.getExecution(failed.executionId);
        return e?.state === 'completed' ? e : null;
      });

      expect(retried).toMatchObject({ result: 'up' });
      expect(started).toHaveLength(4);
      await expect(jobs.retry(failed.executionId)).rejects.toThrow(
        new InvalidJobInputError(RETRY_NOT_FAILED(failed.executionId, 'completed')),
      );
      expect(await jobs.retry('unknown-id')).toBe(false);
    });

    it('listExecutions filters by state, job and tenant (null: host level), newest first, and pages', async () => {
      const Ok = defineJob('OkJob', { id: 'ok' }, () => 'ok');
      const Bad = defineJob('BadJob', { id: 'bad' }, () => {
        throw new PermanentJobError('no');
      });
      const jobs = await boot({ jobs: [Ok, Bad] });
      const ids: string[] = [];
      for (const tenantId of [null, 't1', 't2', 't1']) {
        const run = await jobs.runNow(Ok, { tenantId });
        ids.push(run.executionId);
        await nextMillisecond(run.createdAt.getTime());
      }
      const bad = (await jobs.runNow(Bad)).executionId;

      const all = await jobs.listExecutions();
      expect(all.total).toBe(5);
      expect(all.items.map((e) => e.executionId)).toEqual([bad, ...[...ids].reverse()]);
      expect((await jobs.listExecutions({ states: ['failed'] })).items.map((e) => e.executionId)).toEqual([bad]);
      expect((await jobs.listExecutions({ jobId: 'ok' })).total).toBe(4);
      expect((await jobs.listExecutions({ tenantId: 't1' })).items.map((e) => e.executionId)).toEqual([ids[3], ids[1]]);
      expect((await jobs.listExecutions({ tenantId: null, jobId: 'ok' })).items.map((e) => e.executionId)).toEqual([
        ids[0],
      ]);
      expect(await jobs.listExecutions({ jobId: 'ok', offset: 1, limit: 2 })).toMatchObject({
        total: 4,
        offset: 1,
        limit: 2,
        items: [{ executionId: ids[2] }, { executionId: ids[1] }],
      });
    });

    it('history keeps the newest `count` finished runs and none older than `maxAgeSeconds`', async () => {
      const Counted = defineJob('CountedJob', { id: 'counted', history: { completed: { count: 2 } } }, () => 'ok');
      const Aged = defineJob('AgedJob', { id: 'aged', history: { completed: { maxAgeSeconds: 1 } } }, () => 'ok');
      const jobs = await boot({ jobs: [Counted, Aged] });

      const counted: string[] = [];
      for (let i = 0; i < 3; i++) {
        const run = await jobs.runNow(Counted);
        counted.push(run.executionId);
        await nextMillisecond(run.createdAt.getTime());
      }
      expect(await jobs.getExecution(counted[0])).toBeNull();
      expect((await jobs.listExecutions({ jobId: 'counted' })).items.map((e) => e.executionId)).toEqual([
        counted[2],
        counted[1],
      ]);

      const old = await jobs.runNow(Aged);
      // NOTE: age is the one thing here measured in wall-clock time: the next finish trims runs older than 1 s (250 ms margin).
      await waitFor(
        'the first run to be older than maxAgeSeconds',
        () => Date.now() - old.finishedAt!.getTime() > 1_250,
        3_000,
      );
      const fresh = await jobs.runNow(Aged);

      expect(await jobs.getExecution(old.executionId)).toBeNull();
      expect(await jobs.getExecution(fresh.executionId)).toMatchObject({ state: 'completed' });
    });
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
      const floodStartedBefore = started.length;
      await Promise.all(Array.from({ length: 20 }, () => jobs.enqueue(Job, undefined, { tenantId: 'quiet' })));
      await waitFor("the quiet tenant's 20 runs", () => finished.filter((t) => t === 'quiet').length === 20, 20_000);

      const floodFinished = finished.filter((t) => t === 'flood').length;
      const lastQuietStart = started.lastIndexOf('quiet');
      const floodStartedMeanwhile = started
        .slice(floodStartedBefore, lastQuietStart)
        .filter((t) => t === 'flood').length;
      // NOTE: round robin lets at most one flood run start per quiet run, plus what was already taken when the quiet
      // runs arrived (one per worker slot) and what BullMQ's worker had fetched ahead (another slot's worth): 20 + 2 × 5.
      expect(floodStartedMeanwhile).toBeLessThanOrEqual(20 + 2 * concurrency);
      expect(floodFinished).toBeLessThan(750);
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

      await Promise.all(Array.from({ length: 600 }, () => jobs.enqueue(Plain)));
      let before = started.length;
      await Promise.all(Array.from({ length: 20 }, () => jobs.enqueue(Fair, undefined, { tenantId: 'quiet' })));
      await waitFor(
        'the 20 fair runs behind a plain flood',
        () => finished.filter((k) => k === 'fair').length === 20,
        20_000,
      );
      expect(floodDuring('plain', 'fair', before)).toBeLessThanOrEqual(20 + 2 * concurrency);
      await waitFor('the plain flood to drain', () => finished.filter((k) => k === 'plain').length === 600, 30_000);

      await Promise.all(Array.from({ length: 600 }, () => jobs.enqueue(Fair, undefined, { tenantId: 'flood' })));
      before = started.length;
      await Promise.all(Array.from({ length: 20 }, () => jobs.enqueue(Plain)));
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

    it('fairness: a bad value stops the boot naming the job, the value and the fix', async () => {
      const Job = defineJob('BadFairJob', { id: 'bad-fair', fairness: { by: 'tenant', concurrencyPerTenant: 0 } });

      await expect(boot({ jobs: [Job] })).rejects.toThrow(
        INVALID_JOB_OPTION('bad-fair', 'BadFairJob', 'fairness.concurrencyPerTenant', 0, 'an integer ≥ 1'),
      );
    });
    it('fairness: the tenant backlog metric names the 10 tenants with the most runs queued and sums the rest as (others)', async () => {
      const Job = defineJob('FairQueuedJob', { id: 'fair-queued', fairness: 'tenant' });
      const app = await startJobsApp({ prefix, transport, jobs: [Job], worker: false });
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
      await waitFor('every tenant of the directory to run', () => tenants.every((t) => started.includes(t)), 20_000);

      // NOTE: the fan-out run (host level, one tenant of its own) and then each child wait about one round each, not
      // behind the 300 flood runs (a plain job starts all 300 first): well under half of the flood has started by then.
      expect(started.filter((t) => t === 'flood').length).toBeLessThan(150);
    }, 30_000);
  },
);
