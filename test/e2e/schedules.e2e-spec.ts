import { TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { BackgroundJobs, InvalidJobInputError, JobContext } from 'nestjs-background-jobs';
import {
  INVALID_SCHEDULE,
  SCHEDULE_ID_TAKEN,
  UNKNOWN_JOB,
} from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { defineJob, startJobsApp, TransportKind } from '../support/jobs-app';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../support/redis';
import { timeOf } from '../support/test-time';

interface Tick {
  data: unknown;
  tenantId: string | null;
  /** 0 when the tick has no scheduled time (BullMQ's first interval tick). */
  scheduledAt: number;
  startedAt: number;
}

/** Runtime schedules (`upsertSchedule` / `removeSchedule`), intervals, payloads and windows, on both transports. */
describe.each<TransportKind>(['bullmq', 'local'])('runtime schedules: %s', (transport) => {
  let prefix: string;
  let ticks: Tick[];
  const apps: TestingModule[] = [];
  const queues: Queue[] = [];
  const ReportJob = defineJob('ReportJob', { id: 'report' }, (ctx: JobContext) => {
    ticks.push({
      data: ctx.data,
      tenantId: ctx.tenantId,
      scheduledAt: ctx.scheduledAt?.getTime() ?? 0,
      startedAt: Date.now(),
    });
  });

  beforeEach(() => {
    prefix = randomPrefix(`schedules-${transport}`);
    ticks = [];
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
    await deletePrefix(prefix);
  });

  const bootApp = async (options: { testClock?: object } = {}) => {
    const app = await startJobsApp({ prefix, transport, jobs: [ReportJob], ...options });
    apps.push(app);
    return app;
  };
  const boot = async () => (await bootApp()).get(BackgroundJobs);

  /** Runtime schedulers as plain BullMQ sees them on the default queue; on the embedded transport, its runtime list. */
  const runtimeSchedules = async (jobs: BackgroundJobs): Promise<string[]> => {
    if (transport === 'local')
      return (await jobs.listRecurring()).filter((info) => info.source === 'runtime').map((info) => info.scheduleId);
    const url = new URL(testRedisUrl());
    const queue = new Queue('background-jobs', { connection: { host: url.hostname, port: Number(url.port) }, prefix });
    queues.push(queue);
    return (await queue.getJobSchedulers(0, -1)).map((scheduler) => scheduler.key ?? scheduler.id ?? scheduler.name);
  };

  it('an everyMs: 1000 schedule runs with its payload; an upsert changes it in place; pause, resume and trigger take its id; removeSchedule stops it', async () => {
    // NOTE: on the embedded transport the app runs on the test clock, so the absence after removeSchedule moves the
    // clock instead of waiting 2.5 s; BullMQ has no test clock and observes it over real time.
    const app = await bootApp({ testClock: {} });
    const jobs = app.get(BackgroundJobs);
    const time = timeOf(app);

    const info = await jobs.upsertSchedule(ReportJob, {
      id: 'report:acme',
      everyMs: 1_000,
      data: { v: 1 },
      tenantId: 'acme',
    });

    expect(info).toMatchObject({
      scheduleId: 'report:acme',
      source: 'runtime',
      jobId: 'report',
      everyMs: 1_000,
      tenantId: 'acme',
      paused: false,
    });
    await time.until(
      'two ticks with the first payload',
      () => ticks.filter((t) => (t.data as { v: number }).v === 1).length >= 2,
      5_000,
    );
    expect(ticks[0]).toMatchObject({ data: { v: 1 }, tenantId: 'acme' });
    // NOTE: BullMQ runs an interval's first tick at once (no scheduled time), then every 1 000 ms from it.
    const scheduled = ticks.filter((t) => t.scheduledAt > 0);
    expect(scheduled.slice(1).map((t, i) => t.scheduledAt - scheduled[i].scheduledAt)).toEqual(
      scheduled.slice(1).map(() => 1_000),
    );

    await jobs.upsertSchedule(ReportJob, { id: 'report:acme', everyMs: 1_000, data: { v: 2 }, tenantId: 'acme' });
    // NOTE: judged by scheduled time from after the upsert answered: a tick due while the call was on its way may
    // still carry the old payload, however late a slow host starts it; none due after it may.
    const updatedAt = time.now();
    // NOTE: the next tick after the upsert (≤ everyMs + 1.5 s of margin) carries the new payload.
    await time.until('a tick with the new payload', () => ticks.some((t) => (t.data as { v: number }).v === 2), 2_500);
    expect(ticks.filter((t) => t.scheduledAt > updatedAt && (t.data as { v: number }).v === 1)).toEqual([]);
    expect(await runtimeSchedules(jobs)).toEqual(['report:acme']);
    const listed = (await jobs.listRecurring()).filter((r) => r.source === 'runtime');
    expect(listed).toEqual([
      expect.objectContaining({
        scheduleId: 'report:acme',
        data: { v: 2 },
        lastRun: expect.objectContaining({ state: 'completed' }),
      }),
    ]);

    // NOTE: pause, resume and trigger take the schedule id; trigger runs a tick now with its tenant and payload.
    await jobs.pause('report:acme');
    expect((await jobs.listRecurring()).find((r) => r.scheduleId === 'report:acme')).toMatchObject({ paused: true });
    await jobs.resume('report:acme');
    expect((await jobs.listRecurring()).find((r) => r.scheduleId === 'report:acme')).toMatchObject({ paused: false });
    const triggered = await jobs.trigger('report:acme');
    const execution = await time.until(
      'the triggered run',
      async () => {
        const e = await jobs.getExecution(triggered);
        return e?.state === 'completed' ? e : null;
      },
      3_000,
    );
    expect(execution).toMatchObject({ jobId: 'report', tenantId: 'acme', data: { v: 2 } });

    expect(await jobs.removeSchedule('report:acme')).toBe(true);
    // NOTE: judged by scheduled time from after the removal answered, as the upsert above.
    const removedAt = time.now();
    expect(await jobs.removeSchedule('report:acme')).toBe(false);
    expect(await runtimeSchedules(jobs)).toEqual([]);
    // NOTE: an absence is observed over a window: 2.5 s is two intervals and a half.
    await time.pass(2_500);
    expect(ticks.filter((t) => t.scheduledAt > removedAt)).toEqual([]);
  }, 20_000);

  it('a second instance booting without the schedule leaves it running', async () => {
    const jobs = await boot();
    await jobs.upsertSchedule('report', { id: 'report:every', everyMs: 1_000, data: 'kept' });
    await waitFor('a first tick', () => ticks.length >= 1, 3_000);

    const second = await boot();
    const bootedAt = Date.now();

    await waitFor(
      'two ticks after the second boot',
      () => ticks.filter((t) => t.scheduledAt >= bootedAt).length >= 2,
      4_000,
    );
    expect(await runtimeSchedules(jobs)).toEqual(['report:every']);
    if (transport === 'bullmq')
      expect((await second.listRecurring()).map((r) => r.scheduleId)).toEqual(['report:every']);
    expect(new Set(ticks.map((t) => t.scheduledAt)).size).toBe(ticks.length);
  }, 15_000);

  it('a cron schedule with startDate 3 s ahead and endDate 6 s ahead runs only inside that window', async () => {
    const jobs = await boot();
    const startDate = new Date(Math.ceil(Date.now() / 1_000) * 1_000 + 3_000);
    const endDate = new Date(startDate.getTime() + 3_000);

    await jobs.upsertSchedule(ReportJob, {
      id: 'report:window',
      cron: '* * * * * *',
      startDate,
      endDate,
      data: 'window',
    });
    // NOTE: 1.5 s past the end covers a tick that would be due after it; the ticks due inside the window (4) are
    // awaited too, so a slow host that runs them late does not cut the count.
    await waitFor(
      'the end of the window and its ticks',
      () => Date.now() > endDate.getTime() + 1_500 && ticks.length >= 3,
      9_000,
      100,
    );

    const scheduled = ticks.map((t) => t.scheduledAt);
    expect(scheduled.length).toBeGreaterThanOrEqual(3);
    expect(scheduled.every((at) => at >= startDate.getTime() && at <= endDate.getTime())).toBe(true);
    expect(ticks.every((t) => t.startedAt >= startDate.getTime())).toBe(true);
  }, 15_000);

  it('@PipelineJob({ everyMs, data, endDate }) ticks with its payload, lists as a decorator schedule, and stops at its end', async () => {
    // NOTE: two ticks fit before the end if the boot below takes under ~3.5 s, even on a loaded host.
    const endDate = new Date(Date.now() + 5_000);
    const Digest = defineJob(
      'DigestJob',
      { id: 'digest', everyMs: 1_000, data: { kind: 'short' }, endDate },
      (ctx: JobContext) => {
        ticks.push({
          data: ctx.data,
          tenantId: ctx.tenantId,
          scheduledAt: ctx.scheduledAt?.getTime() ?? 0,
          startedAt: Date.now(),
        });
      },
    );
    const app = await startJobsApp({ prefix, transport, jobs: [Digest] });
    apps.push(app);
    const jobs = app.get(BackgroundJobs);

    expect(await jobs.listRecurring()).toEqual([
      expect.objectContaining({
        scheduleId: 'digest',
        source: 'decorator',
        everyMs: 1_000,
        data: { kind: 'short' },
        endDate,
      }),
    ]);
    await waitFor('two ticks', () => ticks.length >= 2, 5_000);
    expect(ticks.every((t) => (t.data as { kind: string }).kind === 'short')).toBe(true);
    // NOTE: 1.5 s past the end covers a tick that would be due after it.
    await waitFor('the end date passed', () => Date.now() > endDate.getTime() + 1_500, 7_000, 100);
    // NOTE: by scheduled time: a tick due before the end may start after it on a slow host.
    expect(ticks.filter((t) => t.scheduledAt > endDate.getTime())).toEqual([]);
  }, 15_000);

  it('bad input rejects naming the value, and nothing is scheduled', async () => {
    const jobs = await boot();
    const now = Date.now();
    const cases: Array<[Parameters<BackgroundJobs['upsertSchedule']>[1], string]> = [
      [
        { id: 's1', cron: '* * * * *', everyMs: 1_000 },
        INVALID_SCHEDULE(
          's1',
          'cron/everyMs',
          { cron: '* * * * *', everyMs: 1_000 },
          'one of cron or everyMs, not both',
        ),
      ],
      [{ id: 's2' }, INVALID_SCHEDULE('s2', 'cron/everyMs', undefined, 'a cron pattern or an everyMs interval')],
      [{ id: 's4', everyMs: 0 }, INVALID_SCHEDULE('s4', 'everyMs', 0, 'a positive integer (milliseconds)')],
      [{ id: 's5', everyMs: 1_000.5 }, INVALID_SCHEDULE('s5', 'everyMs', 1_000.5, 'a positive integer (milliseconds)')],
      [
        { id: 's5b', everyMs: 999 },
        INVALID_SCHEDULE(
          's5b',
          'everyMs',
          999,
          'an integer ≥ 1000 (milliseconds; the floor is forRoot({ bounds: { minEveryMs } }))',
        ),
      ],
      [
        { id: 's6', cron: '* * * *', timezone: 'Mars/Base' },
        INVALID_SCHEDULE('s6', 'timezone', 'Mars/Base', 'an IANA zone name such as "UTC" or "Europe/Berlin"'),
      ],
      [
        { id: 's7', everyMs: 1_000, startDate: new Date(now + 5_000), endDate: new Date(now + 1_000) },
        INVALID_SCHEDULE(
          's7',
          'endDate',
          new Date(now + 1_000).toISOString(),
          `a date after startDate ${new Date(now + 5_000).toISOString()}`,
        ),
      ],
      [
        { id: 'Bad Id', everyMs: 1_000 },
        INVALID_SCHEDULE(
          'Bad Id',
          'id',
          'Bad Id',
          'a string matching /^[a-z0-9][a-z0-9:._-]*$/ of at most 200 characters',
        ),
      ],
      [{ id: 'report', everyMs: 1_000 }, SCHEDULE_ID_TAKEN('report', 'upsert')],
    ];
    for (const [options, message] of cases) {
      await expect(jobs.upsertSchedule(ReportJob, options)).rejects.toThrow(new InvalidJobInputError(message));
    }
    await expect(jobs.upsertSchedule(ReportJob, { id: 's3', cron: 'not a cron' })).rejects.toThrow(
      /Schedule "s3" has invalid cron "not a cron"/,
    );
    await expect(jobs.upsertSchedule(ReportJob, { id: 's8', everyMs: 1_000, extra: 1 } as never)).rejects.toThrow(
      /invalid option "extra" 1/,
    );
    await expect(jobs.upsertSchedule('no-such-job', { id: 's9', everyMs: 1_000 })).rejects.toThrow(
      new InvalidJobInputError(UNKNOWN_JOB('no-such-job', ['report'])),
    );

    expect(await runtimeSchedules(jobs)).toEqual([]);
    expect(await jobs.listRecurring()).toEqual([]);
  });
});

/** Reconcile covers every queue the app has used under its prefix: moved and deleted jobs leave no scheduler. */
describe('stale schedulers (bullmq)', () => {
  let prefix: string;
  const apps: TestingModule[] = [];
  const queues: Queue[] = [];

  beforeEach(() => {
    prefix = randomPrefix('schedules-stale');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
    await deletePrefix(prefix);
  });

  /** Boots an app with `jobs`, then closes it (a deploy of that version). */
  const deploy = async (jobs: ReturnType<typeof defineJob>[]) => {
    const app = await startJobsApp({ prefix, jobs, worker: false });
    const listed = await app.get(BackgroundJobs).listRecurring();
    await app.close();
    return listed;
  };

  /** Scheduler ids of a queue, as plain BullMQ lists them. */
  const schedulersOf = async (name: string): Promise<string[]> => {
    const url = new URL(testRedisUrl());
    const queue = new Queue(name, { connection: { host: url.hostname, port: Number(url.port) }, prefix });
    queues.push(queue);
    return (await queue.getJobSchedulers(0, -1))
      .map((scheduler) => scheduler.key ?? scheduler.id ?? scheduler.name)
      .sort();
  };

  it("moving a job to another queue, and deleting a queue's last job, leave no scheduler behind", async () => {
    const Nightly = (queue: string) => defineJob('NightlyJob', { id: 'nightly', cron: '0 3 * * *', queue });
    const Hourly = defineJob('HourlyJob', { id: 'hourly', cron: '0 * * * *', queue: 'reports' });
    const Plain = defineJob('PlainJob', { id: 'plain', queue: 'reports' });

    await deploy([Nightly('background-jobs'), Hourly, Plain]);
    expect(await schedulersOf('background-jobs')).toEqual(['nightly']);
    expect(await schedulersOf('reports')).toEqual(['hourly']);

    // NOTE: version 2 moves nightly to "batch" and deletes hourly, the last recurring job of "reports".
    await deploy([Nightly('batch'), Plain]);
    expect(await schedulersOf('background-jobs')).toEqual([]);
    expect(await schedulersOf('reports')).toEqual([]);
    expect(await schedulersOf('batch')).toEqual(['nightly']);

    // NOTE: version 3 no longer uses "batch" or "reports" at all: the remembered queues are still reconciled.
    await deploy([defineJob('OtherJob', { id: 'other' })]);
    expect(await schedulersOf('batch')).toEqual([]);
  });

  it('a runtime schedule follows its job to another queue and survives a boot that does not know it', async () => {
    const Report = (queue: string) => defineJob('ReportJob', { id: 'report', queue });
    const app = await startJobsApp({ prefix, jobs: [Report('background-jobs')], worker: false });
    apps.push(app);
    await app.get(BackgroundJobs).upsertSchedule('report', { id: 'report:daily', cron: '0 6 * * *' });
    expect(await schedulersOf('background-jobs')).toEqual(['report:daily']);

    await deploy([Report('reports')]);
    expect(await schedulersOf('background-jobs')).toEqual([]);
    expect(await schedulersOf('reports')).toEqual(['report:daily']);

    const listed = await deploy([defineJob('OtherJob', { id: 'other' })]);
    expect(await schedulersOf('reports')).toEqual(['report:daily']);
    expect(listed).toEqual([]);
  });
});
