import { Test, TestingModule } from '@nestjs/testing';
import {
  BACKGROUND_JOBS_TEST_CLOCK,
  BackgroundJobs,
  BackgroundJobsModule,
  BackgroundJobsTesting,
  JobDefinitionError,
} from 'nestjs-background-jobs';
import { AppModule, smokeTransport } from '../src/app.module.js';
import { GreetJob, SmokeRecorder } from '../src/smoke.jobs.js';

// NOTE: nothing listens on port 1: the app booting at all proves that on the test clock the configured BullMQ
// transport is never connected (an unreachable Redis stops a real boot).
const UNREACHABLE = { type: 'bullmq', connection: { url: 'redis://127.0.0.1:1' }, prefix: 'never-used' } as const;

describe('nestjs-background-jobs in a NestJS 12 ESM app: its real AppModule on the test clock', () => {
  let app: TestingModule;

  beforeEach(async () => {
    app = await Test.createTestingModule({ imports: [AppModule.forTransport(UNREACHABLE)] })
      .overrideProvider(BACKGROUND_JOBS_TEST_CLOCK)
      .useValue({ now: new Date('2026-01-01T00:00:00.500Z') })
      .compile();
    await app.init();
  });

  afterEach(() => app.close());

  it('runs the every-second cron once per tick with advanceBy, and a run delayed by an hour with drain', async () => {
    const testing = app.get(BackgroundJobsTesting);

    const ticks = await testing.advanceBy(3_000);

    expect(ticks.map((run) => [run.jobId, run.state, run.scheduledAt])).toEqual([
      ['smoke-tick', 'completed', new Date('2026-01-01T00:00:01Z')],
      ['smoke-tick', 'completed', new Date('2026-01-01T00:00:02Z')],
      ['smoke-tick', 'completed', new Date('2026-01-01T00:00:03Z')],
    ]);
    expect(app.get(SmokeRecorder).tickCount).toBe(3);

    const jobs = app.get(BackgroundJobs);
    const executionId = await jobs.enqueue(GreetJob, { name: 'clock' }, { tenantId: 'acme', delayMs: 3_600_000 });
    const [run, ...rest] = await testing.drain();

    expect(rest).toEqual([]);
    expect(run).toMatchObject({
      executionId,
      state: 'completed',
      tenantId: 'acme',
      result: 'hello clock (ctx tenant acme, TenantContext acme)',
    });
    expect(testing.now()).toEqual(new Date('2026-01-01T00:00:03.500Z')); // drain ran it without moving the clock
  });
});

describe('nestjs-background-jobs in a NestJS 12 ESM app: one registration per app', () => {
  it('forTest() beside the AppModule stops the boot, naming both registrations and their lines', async () => {
    const boot = Test.createTestingModule({
      imports: [AppModule.forTransport(smokeTransport('local')), BackgroundJobsModule.forTest()],
    }).compile();

    const error = await boot.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(JobDefinitionError);
    expect((error as Error).message).toMatch(
      /registered 2 times in one app: forRoot\(\) at \S*src\/app\.module\.ts:\d+:\d+; forTest\(\) at \S*test\/test-clock\.e2e-spec\.ts:\d+:\d+\./,
    );
  });
});
