import { TestingModule } from '@nestjs/testing';
import { BackgroundJobs, InvalidJobInputError, JobContext, JobDefinitionError } from 'nestjs-background-jobs';
import {
  INVALID_ENQUEUE_OPTION,
  INVALID_MODULE_OPTION,
  INVALID_SCHEDULE,
} from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { DEFAULTS } from 'nestjs-background-jobs/core';
import { defineJob, startJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix } from '../support/redis';

const FLOOR = DEFAULTS.bounds.minEveryMs;
const everyMsExpected = (floor: number) =>
  `an integer ≥ ${floor} (milliseconds; the floor is forRoot({ bounds: { minEveryMs } }))`;

describe('bounds on input (forRoot({ bounds }))', () => {
  let prefix: string;
  const apps: TestingModule[] = [];

  beforeEach(() => {
    prefix = randomPrefix('bounds');
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  const boot = async (jobs: ReturnType<typeof defineJob>[], bounds?: Record<string, number>) => {
    const app = await startJobsApp({ prefix, jobs, ...(bounds ? { bounds } : {}) });
    apps.push(app);
    return app.get(BackgroundJobs);
  };

  it('by default refuses everyMs below 1,000 ms, ids and dedupe keys over 200 characters, and delays past 366 days; nothing is stored', async () => {
    expect(DEFAULTS.bounds).toMatchObject({
      minEveryMs: 1_000,
      maxIdLength: 200,
      maxDedupeKeyLength: 200,
      maxDelayMs: 366 * 86_400_000,
    });
    const Report = defineJob('ReportJob', { id: 'report' });
    const jobs = await boot([Report]);

    await expect(jobs.upsertSchedule(Report, { id: 'fast', everyMs: 1 })).rejects.toThrow(
      INVALID_SCHEDULE('fast', 'everyMs', 1, everyMsExpected(FLOOR)),
    );
    const longId = 'a'.repeat(5_000);
    await expect(jobs.upsertSchedule(Report, { id: longId, everyMs: 60_000 })).rejects.toThrow(
      INVALID_SCHEDULE(longId, 'id', longId, 'a string matching /^[a-z0-9][a-z0-9:._-]*$/ of at most 200 characters'),
    );
    const key = 'k'.repeat(201);
    await expect(jobs.enqueue(Report, undefined, { dedupeKey: key })).rejects.toThrow(
      INVALID_ENQUEUE_OPTION(
        'report',
        'dedupeKey',
        key,
        'a non-empty string of at most 200 characters (bounds.maxDedupeKeyLength)',
      ),
    );
    await expect(jobs.enqueue(Report, undefined, { delayMs: 1e300 })).rejects.toThrow(
      INVALID_ENQUEUE_OPTION(
        'report',
        'delayMs',
        1e300,
        `an integer from 0 to ${DEFAULTS.bounds.maxDelayMs} (bounds.maxDelayMs)`,
      ),
    );
    const farAway = new Date(Date.now() + 2 * 366 * 86_400_000);
    await expect(jobs.enqueue(Report, undefined, { runAt: farAway })).rejects.toThrow(InvalidJobInputError);
    expect((await jobs.listExecutions({ jobId: 'report' })).total).toBe(0);
    expect(await jobs.listRecurring()).toEqual([]);
    // At the bounds themselves: accepted.
    await expect(jobs.upsertSchedule(Report, { id: 'a'.repeat(200), everyMs: FLOOR })).resolves.toMatchObject({
      everyMs: FLOOR,
    });
  });

  it('takes other bounds from forRoot, and refuses an unknown or non-positive one at boot', async () => {
    const Report = defineJob('ReportJob', { id: 'report' });
    const jobs = await boot([Report], { minEveryMs: 50, maxIdLength: 8 });
    await expect(jobs.upsertSchedule(Report, { id: 'eight888', everyMs: 50 })).resolves.toMatchObject({ everyMs: 50 });
    await expect(jobs.upsertSchedule(Report, { id: 'nine99999', everyMs: 50 })).rejects.toThrow(/at most 8 characters/);
    await expect(jobs.upsertSchedule(Report, { id: 'slow', everyMs: 49 })).rejects.toThrow(everyMsExpected(50));

    await expect(boot([Report], { minEveryMS: 5 })).rejects.toThrow(
      new JobDefinitionError(
        INVALID_MODULE_OPTION('bounds.minEveryMS', 5, `one of ${Object.keys(DEFAULTS.bounds).join(', ')}`),
      ).message,
    );
    await expect(boot([Report], { maxLogLines: 0 })).rejects.toThrow(
      INVALID_MODULE_OPTION('bounds.maxLogLines', 0, 'a positive integer'),
    );
  });

  it('cuts a ctx.log line past maxLogLineLength and keeps at most maxLogLines lines per attempt, with a note of each', async () => {
    const Chatty = defineJob('ChattyJob', { id: 'chatty' }, async (ctx: JobContext) => {
      await ctx.log('0123456789ABCDEF');
      for (let i = 1; i <= 5; i++) await ctx.log(`line ${i}`);
    });
    const jobs = await boot([Chatty], { maxLogLineLength: 10, maxLogLines: 3 });
    const run = await jobs.runNow(Chatty);
    expect(run.state).toBe('completed');
    const logs = await jobs.getExecutionLogs(run.executionId, 100);
    expect(logs?.lines).toEqual([
      '0123456789… [6 characters cut (bounds.maxLogLineLength)]',
      'line 1',
      'line 2',
      '[log limit: 3 lines per attempt (bounds.maxLogLines); further lines dropped]',
    ]);
  });
});
