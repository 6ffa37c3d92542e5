import { Test, TestingModule } from '@nestjs/testing';
import {
  BackgroundJob,
  BackgroundJobs,
  BackgroundJobsModule,
  BackgroundJobsTesting,
  JobContext,
  PipelineJob,
  TransientJobError,
} from 'nestjs-background-jobs';

// The testing module of docs/testing.md: a cron job and delayed runs driven by a test clock, with no real waiting.
// Each test bounds its real time at half the heartbeat's 10 s tick while the clock moves minutes or hours: waiting for
// any real tick, delay or backoff (10 s at least) would break the bound; a slow host's few seconds do not.
const REAL_TIME_BOUND_MS = 5_000;

const ticks: string[] = [];

@PipelineJob({ id: 'heartbeat', cron: '*/10 * * * * *' })
class HeartbeatJob implements BackgroundJob<void, string> {
  async execute(ctx: JobContext<void>): Promise<string> {
    ticks.push(ctx.scheduledAt!.toISOString());
    return 'ok';
  }
}

@PipelineJob({ id: 'send-report', retry: { attempts: 3, backoffMs: 60_000 } })
class SendReportJob implements BackgroundJob<{ reportId: number }, string> {
  static failuresLeft = 0;
  async execute(ctx: JobContext<{ reportId: number }>): Promise<string> {
    if (SendReportJob.failuresLeft > 0) {
      SendReportJob.failuresLeft -= 1;
      throw new TransientJobError('mail server answered 503');
    }
    return `report ${ctx.data.reportId} sent`;
  }
}

describe('BackgroundJobsModule.forTest(): drain() and a test clock', () => {
  let app: TestingModule;
  let testing: BackgroundJobsTesting;
  let jobs: BackgroundJobs;
  let realStart: number;

  beforeEach(async () => {
    ticks.length = 0;
    SendReportJob.failuresLeft = 0;
    app = await Test.createTestingModule({
      imports: [BackgroundJobsModule.forTest({ now: new Date('2026-01-01T00:00:05Z') })],
      providers: [HeartbeatJob, SendReportJob],
    }).compile();
    app.useLogger(false);
    await app.init();
    testing = app.get(BackgroundJobsTesting);
    jobs = app.get(BackgroundJobs);
    realStart = Date.now();
  });

  afterEach(async () => {
    expect(Date.now() - realStart).toBeLessThan(REAL_TIME_BOUND_MS);
    await app.close();
  });

  it('a 6-field cron job runs once per tick the clock passes, at its tick, each with its scheduledAt', async () => {
    expect((await jobs.listRecurring())[0].nextRunAt).toEqual(new Date('2026-01-01T00:00:10Z'));

    const runs = await testing.advanceBy(30_000);

    expect(runs.map((r) => [r.jobId, r.state, r.result])).toEqual([
      ['heartbeat', 'completed', 'ok'],
      ['heartbeat', 'completed', 'ok'],
      ['heartbeat', 'completed', 'ok'],
    ]);
    expect(ticks).toEqual(['2026-01-01T00:00:10.000Z', '2026-01-01T00:00:20.000Z', '2026-01-01T00:00:30.000Z']);
    // Each ran when the clock stood at its tick (started at the tick, not at the end of the move).
    expect(runs.map((r) => r.startedAt)).toEqual(runs.map((r) => r.scheduledAt));
    expect(testing.now()).toEqual(new Date('2026-01-01T00:00:35Z'));
    expect((await jobs.listRecurring())[0].nextRunAt).toEqual(new Date('2026-01-01T00:00:40Z'));
    expect(await testing.drain()).toEqual([]);
  });

  it('a paused cron job gets no tick until resumed', async () => {
    await jobs.pause(HeartbeatJob);
    expect(await testing.advanceBy(60_000)).toEqual([]);

    await jobs.resume(HeartbeatJob);

    expect((await testing.advanceBy(10_000)).map((r) => r.scheduledAt)).toEqual([new Date('2026-01-01T00:01:10Z')]);
  });

  it('drain() runs a run delayed by an hour now, and the clock runs it when it reaches its time', async () => {
    await jobs.pause(HeartbeatJob); // NOTE: else two hours of the clock are 720 heartbeat runs
    const early = await jobs.enqueue(SendReportJob, { reportId: 1 }, { delayMs: 3_600_000 });
    expect(await jobs.getExecution(early)).toMatchObject({ state: 'delayed' });

    expect((await testing.drain()).map((r) => [r.executionId, r.state, r.result])).toEqual([
      [early, 'completed', 'report 1 sent'],
    ]);

    const onTime = await jobs.enqueue(SendReportJob, { reportId: 2 }, { runAt: new Date('2026-01-01T02:00:00Z') });
    expect(await testing.advanceTo(new Date('2026-01-01T01:59:59Z'))).toEqual([]);
    expect(await jobs.getExecution(onTime)).toMatchObject({ state: 'delayed' });

    const [run] = await testing.advanceTo(new Date('2026-01-01T02:30:00Z'));

    expect(run).toMatchObject({
      executionId: onTime,
      state: 'completed',
      result: 'report 2 sent',
      startedAt: new Date('2026-01-01T02:00:00Z'),
    });
  });

  it('drain() runs the retries too, without their backoff (60 s, then 120 s)', async () => {
    SendReportJob.failuresLeft = 2;
    const id = await jobs.enqueue(SendReportJob, { reportId: 3 });

    const runs = await testing.drain();

    expect(runs).toEqual([
      expect.objectContaining({ executionId: id, state: 'completed', attempts: 3, result: 'report 3 sent' }),
    ]);
  });

  it('moving the clock runs each retry after its backoff: 60 s, then 120 s', async () => {
    await jobs.pause(HeartbeatJob);
    SendReportJob.failuresLeft = 2;
    const id = await jobs.enqueue(SendReportJob, { reportId: 4 });

    expect(await testing.advanceBy(179_999)).toEqual([]);
    expect(await jobs.getExecution(id)).toMatchObject({ state: 'delayed', attempts: 2 });
    const [run] = await testing.advanceBy(1);

    expect(run).toMatchObject({
      executionId: id,
      state: 'completed',
      attempts: 3,
      startedAt: new Date('2026-01-01T00:03:05Z'),
    });
  });

  it('refuses to move the clock backwards', async () => {
    await expect(testing.advanceTo(new Date('2025-12-31T23:59:59Z'))).rejects.toThrow(
      /cannot move to 2025-12-31T23:59:59.000Z \(it is 2026-01-01T00:00:05.000Z\)/,
    );
    await expect(testing.advanceBy(-1)).rejects.toThrow(RangeError);
  });
});

describe('forTest(): the pipeline sees the test clock', () => {
  it("ticks of a misfire: 'skip' job run at their time: the misfire stage reads the test clock, not the real one", async () => {
    @PipelineJob({ id: 'minutely', cron: '* * * * *', misfire: 'skip' })
    class MinutelyJob implements BackgroundJob<void, string> {
      async execute(): Promise<string> {
        return 'ran';
      }
    }
    const app = await Test.createTestingModule({
      imports: [BackgroundJobsModule.forTest({ now: new Date('2026-01-01T00:00:30Z'), worker: { concurrency: 1 } })],
      providers: [MinutelyJob],
    }).compile();
    app.useLogger(false);
    await app.init();
    try {
      const testing = app.get(BackgroundJobsTesting);

      expect((await testing.advanceBy(120_000)).map((r) => [r.scheduledAt?.toISOString(), r.state])).toEqual([
        ['2026-01-01T00:01:00.000Z', 'completed'],
        ['2026-01-01T00:02:00.000Z', 'completed'],
      ]);
    } finally {
      await app.close();
    }
  });
});
