import { Test, TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { BackgroundJobs, BackgroundJobsModule, JobContext } from 'nestjs-background-jobs';
import { defineJob } from '../support/jobs-app';
import { randomPrefix, waitFor } from '../support/redis';
import { TestRedisServer } from '../support/redis-server';

/** Schedules that heal themselves, and the misfire policy, against a Redis the test stops and wipes. */
describe('self-healing schedules and the misfire policy', () => {
  let redis: TestRedisServer;
  let prefix: string;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    redis = await TestRedisServer.create();
  });

  afterAll(async () => {
    await redis.stop();
  });

  beforeEach(() => {
    prefix = randomPrefix('heal');
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  const boot = async (jobs: Function[]): Promise<TestingModule> => {
    const app = await Test.createTestingModule({
      imports: [
        BackgroundJobsModule.forRoot({ transport: { type: 'bullmq', connection: { url: redis.url }, prefix } }),
      ],
      providers: jobs as never[],
    }).compile();
    app.useLogger(false);
    await app.init();
    closers.push(() => app.close());
    return app;
  };
  const plainQueue = () => {
    const queue = new Queue('background-jobs', { connection: { url: redis.url }, prefix });
    closers.push(() => queue.close());
    return queue;
  };

  it('Redis stopped for 5 s and restarted empty: within 10 s schedulers (runtime ones too) and pause flags are back and ticks run, no app restart', async () => {
    const ticks: number[] = [];
    const payloads: unknown[] = [];
    const Tick = defineJob('TickJob', { id: 'tick', cron: '* * * * * *' }, (ctx: JobContext) =>
      ticks.push(ctx.scheduledAt!.getTime()),
    );
    const Paused = defineJob('PausedJob', { id: 'paused-report', cron: '0 3 * * *' });
    const Report = defineJob('ReportJob', { id: 'report' }, (ctx: JobContext) => payloads.push(ctx.data));
    const app = await boot([Tick, Paused, Report]);
    await app.get(BackgroundJobs).pause('paused-report');
    await app
      .get(BackgroundJobs)
      .upsertSchedule(Report, { id: 'report:every', everyMs: 1_000, data: { runtime: true } });
    await waitFor('a first tick', () => ticks.length >= 1, 5_000);

    await redis.stop();
    const down = Date.now();
    await waitFor('5 s of downtime', () => Date.now() - down >= 5_000, 7_000, 200);
    await redis.start();
    const back = Date.now();

    const payloadsBefore = payloads.length;
    await waitFor('a tick after Redis came back', () => ticks.some((t) => t >= back), 10_000, 100);
    await waitFor('a runtime tick after Redis came back', () => payloads.length > payloadsBefore, 10_000, 100);
    expect(Date.now() - back).toBeLessThan(10_000);
    const schedulers = await plainQueue().getJobSchedulers(0, -1);
    expect(schedulers.map((s) => s.key).sort()).toEqual(['report:every', 'tick']);
    expect(payloads[payloads.length - 1]).toEqual({ runtime: true });
    expect((await app.get(BackgroundJobs).listRecurring()).find((r) => r.jobId === 'paused-report')).toMatchObject({
      paused: true,
    });
  }, 30_000);

  it.each<['skip' | 'run-once', number]>([
    ['skip', 0],
    ['run-once', 1],
  ])(
    "every instance down across three ticks: misfire '%s' makes up %i run(s)",
    async (misfire, catchUps) => {
      const runs: Array<{ tick: number; at: number }> = [];
      // NOTE: 1 s past its tick a run counts as missed; the downtime below is over three ticks.
      const Job = defineJob(
        'MinuteJob',
        { id: 'every-second', cron: '* * * * * *', misfire, misfireThresholdMs: 1_000 },
        (ctx: JobContext) => {
          runs.push({ tick: ctx.scheduledAt!.getTime(), at: Date.now() });
        },
      );
      const first = await boot([Job]);
      await waitFor('a first run', () => runs.length >= 1, 5_000);
      await first.close();
      closers.splice(0);
      const downSince = Date.now();
      const before = runs.length;
      await waitFor('three ticks of downtime', () => Date.now() - downSince >= 3_500, 6_000, 100);

      const returned = Date.now();
      await boot([Job]);
      const queue = plainQueue();
      // NOTE: the overdue tick is handled first; waiting for two on-time runs proves it has been handled.
      await waitFor(
        'two on-time runs after the return',
        () => runs.filter((r) => r.tick >= returned).length >= 2,
        8_000,
      );

      const lateRuns = runs.slice(before).filter((r) => r.tick < returned);
      expect(lateRuns).toHaveLength(catchUps);
      if (misfire === 'skip') {
        const skipped = (await queue.getCompleted()).filter((j) => j.returnvalue?.outcome === 'skipped');
        expect(skipped.length).toBeGreaterThanOrEqual(1);
        expect(skipped[0].returnvalue.reason).toMatch(/^misfire: \d+ later tick\(s\) were missed/);
      }
    },
    30_000,
  );

  it("misfire 'skip' leaves retries alone: a retry that starts after the next tick still runs", async () => {
    const attempts: Array<{ tick: number; attempt: number }> = [];
    const Job = defineJob(
      'FlakyTickJob',
      {
        id: 'flaky-tick',
        cron: '* * * * * *',
        misfire: 'skip',
        misfireThresholdMs: 1_000,
        retry: { attempts: 2, backoffMs: 2_500 },
      },
      (ctx: JobContext) => {
        attempts.push({ tick: ctx.scheduledAt!.getTime(), attempt: ctx.attempt });
        if (ctx.attempt === 1 && attempts.filter((a) => a.attempt === 1).length === 1) throw new Error('ECONNRESET');
      },
    );
    await boot([Job]);

    const retried = (await waitFor(
      'the retry of the first tick',
      () => attempts.find((a) => a.attempt === 2),
      8_000,
    )) as { tick: number };

    expect(retried.tick).toBe(attempts[0].tick);
    expect(attempts.filter((a) => a.attempt === 1 && a.tick > retried.tick).length).toBeGreaterThanOrEqual(2);
  }, 20_000);
});
