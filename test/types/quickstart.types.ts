// Patterns of docs/quickstart.md compiled on NestJS 11 (CommonJS) by test/architecture/type-tests.spec.ts; the docs'
// own blocks are compiled and run on NestJS 12 (ESM) by npm run pack:smoke (scripts/pack-smoke/doc-snippets.js).
import { Module } from '@nestjs/common';
import { ClsModule } from 'nestjs-cls';
import { Test } from '@nestjs/testing';
import {
  BackgroundJob,
  BackgroundJobs,
  BackgroundJobsModule,
  BackgroundJobsTesting,
  JobContext,
  JobExecution,
  PipelineJob,
} from 'nestjs-background-jobs';

@PipelineJob({ id: 'heartbeat', cron: '*/10 * * * * *' }) // second 0, 10, 20, … of every minute, UTC
export class HeartbeatJob implements BackgroundJob<void, string> {
  async execute(ctx: JobContext<void>): Promise<string> {
    await ctx.log(`alive at ${ctx.scheduledAt?.toISOString()}`);
    return 'ok';
  }
}

@Module({
  imports: [BackgroundJobsModule.forRoot({ transport: { type: 'local' } })],
  providers: [HeartbeatJob],
})
export class LocalAppModule {}

@Module({
  imports: [
    ClsModule.forRoot({
      global: true,
      middleware: {
        mount: true, // every HTTP request gets a CLS context
        setup: (cls, req) => {
          const header = req.headers['x-tenant-id'];
          cls.set('tenantId', typeof header === 'string' && header.length > 0 ? header : null); // null: host level
        },
      },
    }),
    BackgroundJobsModule.forRoot({
      transport: { type: 'bullmq', connection: { url: process.env.REDIS_URL }, prefix: 'myapp' },
    }),
  ],
})
export class TenantAppModule {}

export async function heartbeatResult(jobs: BackgroundJobs): Promise<string | undefined> {
  return (await jobs.runNow(HeartbeatJob)).result;
}

export async function testingSnippet(): Promise<JobExecution[]> {
  const app = await Test.createTestingModule({
    imports: [BackgroundJobsModule.forTest({ now: new Date('2026-01-01T00:00:05Z') })],
    providers: [HeartbeatJob],
  }).compile();
  await app.init();
  const testing = app.get(BackgroundJobsTesting);

  const runs = await testing.advanceBy(30_000); // three completed HeartbeatJob runs: the ticks at :10, :20 and :30
  await app.close();
  return runs;
}
