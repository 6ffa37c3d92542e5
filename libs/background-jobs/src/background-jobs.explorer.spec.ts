import { Injectable, Scope, Type } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import {
  BackgroundJobsModule,
  JobClass,
  JobDefinitionError,
  PipelineJob,
  PipelineJobOptions,
  TENANT_DIRECTORY,
} from './index';
import {
  DUPLICATE_JOB_ID,
  INVALID_CRON,
  INVALID_JOB_ID,
  INVALID_JOB_OPTION,
  INVALID_MODULE_OPTION,
  INVALID_TIMEZONE,
  MISSING_EXECUTE,
  MISSING_TENANT_DIRECTORY,
  REQUEST_SCOPED_JOB,
} from './contracts/background-jobs.messages';

// NOTE: validation happens in onModuleInit, before any Redis connection is opened; the boots that pass it use the suite's Redis.
const transport = { type: 'bullmq' as const, connection: { url: process.env.TEST_REDIS_URL }, prefix: 'explorer-spec' };

function job(name: string, options: PipelineJobOptions, withExecute = true): Type {
  const cls = withExecute
    ? class {
        execute() {
          return undefined;
        }
      }
    : class {};
  Object.defineProperty(cls, 'name', { value: name });
  // NOTE: a class without execute() does not compile under @PipelineJob; the cast is how plain JS would reach the check.
  PipelineJob(options)(cls as unknown as JobClass);
  return cls;
}

async function boot(providers: any[], moduleOptions: Record<string, unknown> = {}): Promise<unknown> {
  let moduleRef: TestingModule | undefined;
  try {
    moduleRef = await Test.createTestingModule({
      imports: [BackgroundJobsModule.forRoot({ transport, ...moduleOptions })],
      providers,
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await moduleRef?.close().catch(() => undefined);
  }
}

describe('boot validation: the app refuses to start on a bad job definition', () => {
  it.each([
    ['a 4-field cron', '* * * *', 'it has 4 fields'],
    ['an out-of-range minute', '61 * * * *', 'Constraint error, got value 61 expected range 0-59'],
    ['garbage', 'every day', 'it has 2 fields'],
    ['a 7-field cron', '* * * * * * *', 'it has 7 fields'],
  ])('invalid cron: %s', async (_label, cron, reason) => {
    const error = await boot([job('BadCronJob', { id: 'bad-cron', cron })]);
    expect(error).toBeInstanceOf(JobDefinitionError);
    expect((error as Error).message).toBe(INVALID_CRON('bad-cron', 'BadCronJob', cron, reason));
  });

  it('unknown timezone', async () => {
    const error = await boot([job('TzJob', { id: 'tz-job', cron: '0 3 * * *', timezone: 'Mars/Olympus' })]);
    expect((error as Error).message).toBe(INVALID_TIMEZONE('tz-job', 'TzJob', 'Mars/Olympus'));
  });

  it('duplicate ids name both classes', async () => {
    const error = await boot([job('FirstJob', { id: 'same' }), job('SecondJob', { id: 'same' })]);
    expect((error as Error).message).toBe(DUPLICATE_JOB_ID('same', 'FirstJob', 'SecondJob'));
    expect((error as Error).message).toContain('FirstJob');
    expect((error as Error).message).toContain('SecondJob');
  });

  it.each(['CamelCase', '-leading-dash', 'has space', '', 'ünïcode'])('id outside the pattern: %j', async (id) => {
    const error = await boot([job('BadIdJob', { id })]);
    expect((error as Error).message).toBe(INVALID_JOB_ID(id, 'BadIdJob'));
  });

  it('a class without execute', async () => {
    const error = await boot([job('NoExecuteJob', { id: 'no-execute' }, false)]);
    expect((error as Error).message).toBe(MISSING_EXECUTE('no-execute', 'NoExecuteJob'));
  });

  it('a request-scoped job provider', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class RequestScopedJob {
      execute() {
        return undefined;
      }
    }
    PipelineJob({ id: 'request-scoped' })(RequestScopedJob);
    const error = await boot([RequestScopedJob]);
    expect((error as Error).message).toBe(REQUEST_SCOPED_JOB('request-scoped', 'RequestScopedJob'));
  });

  it('a per-tenant job without a TENANT_DIRECTORY, and the same job with one', async () => {
    const PerTenant = job('PerTenantJob', { id: 'per-tenant', tenancy: 'per-tenant' });
    const error = await boot([PerTenant]);
    expect((error as Error).message).toBe(MISSING_TENANT_DIRECTORY('per-tenant', 'PerTenantJob'));

    const ok = await boot([PerTenant, { provide: TENANT_DIRECTORY, useValue: { listTenantIds: async () => [] } }]);
    expect(ok).toBeUndefined();
  });

  it('bad numeric options name the option and the expectation', async () => {
    const error = await boot([job('RetryJob', { id: 'retry-job', retry: { attempts: 0 } })]);
    expect((error as Error).message).toBe(
      INVALID_JOB_OPTION('retry-job', 'RetryJob', 'retry.attempts', 0, 'an integer ≥ 1'),
    );
  });

  it('an unknown misfire policy names the job, the class and the two policies', async () => {
    const error = await boot([
      job('MisfireJob', { id: 'misfire-job', cron: '0 3 * * *', misfire: 'catch-up' as never }),
    ]);
    expect((error as Error).message).toBe(
      INVALID_JOB_OPTION('misfire-job', 'MisfireJob', 'misfire', 'catch-up', "'skip' or 'run-once'"),
    );
  });

  it.each<[string, Record<string, unknown>, string, unknown, string]>([
    [
      'cron and everyMs both',
      { cron: '0 3 * * *', everyMs: 1_000 },
      'cron/everyMs',
      { cron: '0 3 * * *', everyMs: 1_000 },
      'one of cron or everyMs, not both',
    ],
    ['everyMs not a positive integer', { everyMs: 0 }, 'everyMs', 0, 'a positive integer (milliseconds)'],
    [
      'everyMs below the floor (bounds.minEveryMs)',
      { everyMs: 999 },
      'everyMs',
      999,
      'an integer ≥ 1000 (milliseconds; the floor is forRoot({ bounds: { minEveryMs } }))',
    ],
    [
      'an end before the start',
      { everyMs: 1_000, startDate: new Date(2_000), endDate: new Date(1_000) },
      'endDate',
      new Date(1_000).toISOString(),
      `a date after startDate ${new Date(2_000).toISOString()}`,
    ],
    [
      'a misfireThresholdMs below 0',
      { cron: '0 3 * * *', misfireThresholdMs: -1 },
      'misfireThresholdMs',
      -1,
      'an integer ≥ 0 (milliseconds)',
    ],
  ])('bad schedule timing: %s', async (_label, options, option, value, expected) => {
    const error = await boot([job('TimedJob', { id: 'timed-job', ...options })]);
    expect(error).toBeInstanceOf(JobDefinitionError);
    expect((error as Error).message).toBe(INVALID_JOB_OPTION('timed-job', 'TimedJob', option, value, expected));
  });

  it('a bad module option stops the boot too', async () => {
    const error = await boot([], { worker: { concurrency: -1 } });
    expect((error as Error).message).toBe(INVALID_MODULE_OPTION('worker.concurrency', -1, 'a positive integer'));
  });

  it.each<[string, Record<string, unknown>, string, unknown, string]>([
    ['lockDurationMs', { lockDurationMs: 50 }, 'worker.lockDurationMs', 50, 'an integer ≥ 200 (ms)'],
    ['stalledIntervalMs', { stalledIntervalMs: 0 }, 'worker.stalledIntervalMs', 0, 'an integer ≥ 100 (ms)'],
    ['maxStalledCount', { maxStalledCount: -1 }, 'worker.maxStalledCount', -1, 'an integer ≥ 0'],
  ])('a bad stall setting (%s) stops the boot', async (_label, worker, option, value, expected) => {
    const error = await boot([], { worker });
    expect((error as Error).message).toBe(INVALID_MODULE_OPTION(option, value, expected));
  });

  it('an unreachable Redis fails the boot with one clear line, in bounded time', async () => {
    const started = Date.now();
    const error = await boot([job('GoodJob', { id: 'good-job' })], {
      transport: { type: 'bullmq', connection: { url: 'redis://127.0.0.1:1' } },
    });
    expect(Date.now() - started).toBeLessThan(11_000);
    expect((error as Error).message).toMatch(
      /^BackgroundJobs cannot use Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*Fix: /,
    );
    expect((error as Error).message).not.toContain('\n');
  });

  it('a valid definition boots', async () => {
    expect(
      await boot([job('GoodJob', { id: 'good-job', cron: '*/10 * * * * *', timezone: 'Asia/Tokyo' })], {
        worker: false,
      }),
    ).toBeUndefined();
  });
});
