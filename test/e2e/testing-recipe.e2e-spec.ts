// The Redis e2e recipe of docs/testing.md, as written there (only the Redis URL comes from the suite): a test app on
// a prefix of its own, runNow to wait for the final state, and an afterAll that closes the app and deletes every
// key under the prefix, the job schedulers included.
import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { BackgroundJob, BackgroundJobs, BackgroundJobsModule, JobContext, PipelineJob } from 'nestjs-background-jobs';
import { testRedisUrl } from '../support/redis';

@PipelineJob({ id: 'send-report', cron: '0 3 * * *' })
@Injectable()
class SendReportJob implements BackgroundJob<{ reportId: number }, string> {
  async execute(ctx: JobContext<{ reportId: number }>): Promise<string> {
    return `report ${ctx.data.reportId} sent`;
  }
}

/** Deletes every key under `prefix` (SCAN + UNLINK, never KEYS on a shared Redis). */
async function deletePrefix(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url);
  let deleted = 0;
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 })) {
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}

describe('SendReportJob on Redis (docs/testing.md recipe)', () => {
  const url = testRedisUrl(); // in the docs: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const prefix = `test-${randomUUID()}`; // one prefix per test file: parallel workers never share keys
  let app: TestingModule;

  beforeAll(async () => {
    app = await Test.createTestingModule({
      imports: [BackgroundJobsModule.forRoot({ transport: { type: 'bullmq', connection: { url }, prefix } })],
      providers: [SendReportJob],
    }).compile();
    app.useLogger(false);
    await app.init();
  });

  afterAll(async () => {
    await app.close();
    const deleted = await deletePrefix(url, prefix);
    // Not in the docs: the recipe's point, checked. The run and the scheduler left keys, and none is left now.
    expect(deleted).toBeGreaterThan(0);
    const redis = new Redis(url);
    try {
      expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it('sends the report', async () => {
    const execution = await app.get(BackgroundJobs).runNow(SendReportJob, { data: { reportId: 42 } });

    expect(execution).toMatchObject({ state: 'completed', result: 'report 42 sent' });
  });
});
