import { Injectable, Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import {
  BACKGROUND_JOBS_TEST_CLOCK,
  BackgroundJob,
  BackgroundJobs,
  BackgroundJobsModule,
  BackgroundJobsTesting,
  JobContext,
  JobDefinitionError,
  PipelineJob,
  TransientJobError,
} from 'nestjs-background-jobs';
import { MODULE_REGISTERED_TWICE, NOT_ON_TEST_CLOCK } from '../../libs/background-jobs/src/contracts';

// docs/testing.md, "Your real AppModule on the test clock": the host's own AppModule, with its forRoot on BullMQ, runs
// on the test clock once BACKGROUND_JOBS_TEST_CLOCK is overridden; registering the module twice stops the boot.

// NOTE: nothing listens on port 1: a boot that connected to the configured Redis would fail (an unreachable Redis
// stops the boot), so a passing boot proves the configured transport is never touched on the test clock.
const UNREACHABLE_REDIS = 'redis://127.0.0.1:1';

@Injectable()
class ReportMailer {
  readonly sent: number[] = [];
  failuresLeft = 0;
}

@PipelineJob({ id: 'send-report' })
class SendReportJob implements BackgroundJob<{ reportId: number }, string> {
  constructor(private readonly mailer: ReportMailer) {}

  execute(ctx: JobContext<{ reportId: number }>): string {
    if (this.mailer.failuresLeft > 0) {
      this.mailer.failuresLeft -= 1;
      throw new TransientJobError('mail server answered 503');
    }
    this.mailer.sent.push(ctx.data.reportId);
    return `report ${ctx.data.reportId} sent`;
  }
}

@PipelineJob({ id: 'nightly-digest', cron: '0 3 * * *' })
class NightlyDigestJob implements BackgroundJob<void, string> {
  execute(ctx: JobContext<void>): string {
    return `digest of ${ctx.scheduledAt?.toISOString()}`;
  }
}

@Injectable()
class ReportsService {
  constructor(private readonly jobs: BackgroundJobs) {}

  requestReport(reportId: number): Promise<string> {
    return this.jobs.enqueue(SendReportJob, { reportId }, { delayMs: 5 * 60_000 });
  }
}

/** The host's AppModule as it ships: BullMQ, and defaults a test must keep (two attempts, a minute apart). */
@Module({
  imports: [
    BackgroundJobsModule.forRoot({
      transport: { type: 'bullmq', connection: { url: UNREACHABLE_REDIS }, prefix: 'myapp' },
      defaults: { retry: { attempts: 2, backoffMs: 60_000 } },
    }),
  ],
  providers: [ReportMailer, ReportsService, SendReportJob, NightlyDigestJob],
})
class AppModule {}

@Module({ imports: [BackgroundJobsModule.forRoot({ transport: { type: 'local' }, isGlobal: false })] })
class ReportingModule {}

/** The same app with its options from a factory, as read from configuration. */
@Module({
  imports: [
    BackgroundJobsModule.forRootAsync({
      useFactory: () => ({ transport: { type: 'bullmq', connection: { url: UNREACHABLE_REDIS }, prefix: 'myapp' } }),
    }),
  ],
  providers: [ReportMailer, ReportsService, SendReportJob],
})
class AsyncAppModule {}

describe('the real AppModule on the test clock (BACKGROUND_JOBS_TEST_CLOCK)', () => {
  let app: TestingModule;

  beforeEach(async () => {
    app = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(BACKGROUND_JOBS_TEST_CLOCK)
      .useValue({ now: new Date('2026-01-01T02:59:00Z') })
      .compile();
    app.useLogger(false);
    await app.init();
  });

  afterEach(() => app.close());

  it("runs the app's own service and jobs on the test clock: a delayed run with advanceBy, its retry with drain", async () => {
    const testing = app.get(BackgroundJobsTesting);
    const mailer = app.get(ReportMailer);
    mailer.failuresLeft = 1;
    const executionId = await app.get(ReportsService).requestReport(42);

    // The cron tick at 03:00 and the report delayed to 03:04, each at its time; the report's first attempt fails.
    const moved = await testing.advanceBy(5 * 60_000);
    expect(moved.map((run) => [run.jobId, run.state, run.result, run.scheduledAt])).toEqual([
      ['nightly-digest', 'completed', 'digest of 2026-01-01T03:00:00.000Z', new Date('2026-01-01T03:00:00Z')],
    ]);
    expect(mailer.sent).toEqual([]);

    // The retry AppModule's defaults asked for (a minute later) runs now, without waiting for its backoff.
    const drained = await testing.drain();
    expect(drained).toEqual([
      expect.objectContaining({ executionId, state: 'completed', attempts: 2, result: 'report 42 sent' }),
    ]);
    expect(mailer.sent).toEqual([42]);
  });
});

/** Compiles `imports` and resolves the error that stopped the boot (undefined when it booted). */
async function bootError(imports: Parameters<typeof Test.createTestingModule>[0]['imports']): Promise<unknown> {
  return Test.createTestingModule({ imports })
    .compile()
    .then(
      async (booted) => void (await booted.close()),
      (caught: unknown) => caught,
    );
}

/** The registrations a MODULE_REGISTERED_TWICE message names, in order. */
function registrationsIn(error: unknown): string[] {
  expect(error).toBeInstanceOf(JobDefinitionError);
  const registrations = (error as Error).message.match(/times in one app: (.*?)\. Each/)?.[1].split('; ') ?? [];
  expect((error as Error).message).toBe(MODULE_REGISTERED_TWICE(registrations));
  return registrations;
}

const AT_THIS_FILE = String.raw`at test/e2e/real-app-on-test-clock\.e2e-spec\.ts:\d+:\d+$`;

describe('the real AppModule with forRootAsync on the test clock', () => {
  it('runs on the test clock too: the factory options are resolved, the configured Redis never connected', async () => {
    const app = await Test.createTestingModule({ imports: [AsyncAppModule] })
      .overrideProvider(BACKGROUND_JOBS_TEST_CLOCK)
      .useValue({})
      .compile();
    app.useLogger(false);
    await app.init();
    try {
      const executionId = await app.get(ReportsService).requestReport(7);

      expect(await app.get(BackgroundJobsTesting).drain()).toEqual([
        expect.objectContaining({ executionId, state: 'completed', result: 'report 7 sent' }),
      ]);
    } finally {
      await app.close();
    }
  });
});

describe('BackgroundJobsModule registered twice in one app', () => {
  it('forRoot in AppModule and forTest beside it: the boot stops, naming both registrations and their lines', async () => {
    const registrations = registrationsIn(await bootError([AppModule, BackgroundJobsModule.forTest()]));

    expect(registrations).toEqual([
      expect.stringMatching(new RegExp(`^forRoot\\(\\) ${AT_THIS_FILE}`)),
      expect.stringMatching(new RegExp(`^forTest\\(\\) ${AT_THIS_FILE}`)),
    ]);
  });

  it('forRoot in two modules: the boot stops, naming both', async () => {
    const registrations = registrationsIn(await bootError([AppModule, ReportingModule]));

    expect(registrations).toHaveLength(2);
    expect(new Set(registrations).size).toBe(2); // two lines of this file
    for (const registration of registrations)
      expect(registration).toMatch(new RegExp(`^forRoot\\(\\) ${AT_THIS_FILE}`));
  });

  it('one registration boots', async () => {
    expect(await bootError([ReportingModule])).toBeUndefined();
  });
});

describe('BackgroundJobsTesting on real time', () => {
  it('says how to put the app on the test clock instead of moving a clock it does not have', async () => {
    const app = await Test.createTestingModule({ imports: [ReportingModule] }).compile();
    await app.init();
    try {
      const testing = app.get(BackgroundJobsTesting);
      await expect(testing.drain()).rejects.toThrow(NOT_ON_TEST_CLOCK('drain'));
      await expect(testing.advanceBy(1_000)).rejects.toThrow(NOT_ON_TEST_CLOCK('advanceBy'));
      expect(() => testing.now()).toThrow(NOT_ON_TEST_CLOCK('now'));
    } finally {
      await app.close();
    }
  });
});
