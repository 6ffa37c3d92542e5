import { TestingModule } from '@nestjs/testing';
import { BackgroundJobs, BackgroundJobsMetrics } from 'nestjs-background-jobs';
import { PAUSED_SKIP } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { defineJob } from '../support/jobs-app';
import { waitFor } from '../support/redis';
import { timeOf } from '../support/test-time';
import { describeContract } from './support/contract';

describeContract('schedules: ticks, pause and resume, misfire', (c) => {
  const { boot, startApp, transport, apps } = c;

  /** The value of `background_jobs_runs_total` for one job and outcome (0 when never counted). */
  const runsTotal = async (app: TestingModule, job: string, outcome: string): Promise<number> => {
    const metric = await app.get(BackgroundJobsMetrics).registry.getSingleMetric('background_jobs_runs_total')!.get();
    return metric.values
      .filter((v) => v.labels.job === job && v.labels.outcome === outcome)
      .reduce((sum, v) => sum + v.value, 0);
  };

  it('a `* * * * * *` job runs once per second, on whole-second ticks', async () => {
    const ticks: number[] = [];
    const Job = defineJob('TickJob', { id: 'tick', cron: '* * * * * *' }, (ctx) =>
      ticks.push(ctx.scheduledAt!.getTime()),
    );
    const jobs = await boot({ jobs: [Job] });

    await waitFor('three ticks', () => ticks.length >= 3, 6_000);

    // NOTE: the next tick is judged from before the listing was asked for: a slow answer cannot make it look stale.
    const asked = Date.now();
    const [recurring] = await jobs.listRecurring();
    const sorted = [...ticks].sort((a, b) => a - b);
    expect(new Set(sorted).size).toBe(sorted.length);
    sorted.slice(1).forEach((t, i) => expect(t - sorted[i]).toBe(1000));
    expect(recurring).toMatchObject({ jobId: 'tick', cron: '* * * * * *', timezone: 'UTC', paused: false });
    expect(recurring.nextRunAt!.getTime()).toBeGreaterThan(asked - 1000);
  });

  it('pause stops a recurring job, resume brings it back', async () => {
    const ticks: number[] = [];
    const Job = defineJob('PausableJob', { id: 'pausable', cron: '* * * * * *' }, (ctx) =>
      ticks.push(ctx.scheduledAt!.getTime()),
    );
    // NOTE: on the embedded transport the app runs on the test clock: the absence below moves the clock past two
    // ticks instead of waiting for them. BullMQ has no test clock: there it is observed over real time.
    const app = await startApp({ jobs: [Job], testClock: {} });
    apps.push(app);
    const jobs = app.get(BackgroundJobs);
    const time = timeOf(app);
    await time.until('a first tick', () => ticks.length >= 1, 5_000);

    await jobs.pause('pausable');
    // NOTE: judged by each tick's scheduled time from after the pause answered: a tick due while the call was on its
    // way may still run, however late a slow host starts it; none due after it may.
    const pausedAt = time.now();
    expect((await jobs.listRecurring())[0]).toMatchObject({ jobId: 'pausable', paused: true });
    // NOTE: an absence can only be observed over a window: 2.5 s covers two ticks of a one-second job.
    await time.pass(2_500);
    expect(ticks.filter((t) => t > pausedAt)).toEqual([]);

    await jobs.resume('pausable');
    const resumedAt = time.now();
    await time.until('a tick after resume', () => ticks.some((t) => t >= resumedAt), 5_000);
    expect((await jobs.listRecurring())[0]).toMatchObject({ paused: false });
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
      const redis = c.topology!.client();
      const pausedKey = c.topology!.kind === 'cluster' ? `{${c.prefix}:bgj}:paused` : `${c.prefix}:bgj:paused`;
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
});
