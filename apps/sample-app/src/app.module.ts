import { Module } from '@nestjs/common';
import { BackgroundJobsModule } from 'nestjs-background-jobs';
import { HeartbeatJob } from './jobs/heartbeat.job';
import { OpsModule } from './ops/ops.module';
import { OpsTokenGuard } from './ops/ops-token.guard';

@Module({
  imports: [
    BackgroundJobsModule.forRoot({
      // NOTE: embedded by default so the sample runs on a machine without Redis; REDIS_URL switches to BullMQ.
      transport: process.env.REDIS_URL
        ? { type: 'bullmq', connection: { url: process.env.REDIS_URL }, prefix: process.env.JOBS_PREFIX ?? 'sample' }
        : { type: 'local' },
      worker: process.env.JOBS_WORKER === 'false' ? false : { concurrency: 10 },
      operations: { guard: OpsTokenGuard },
    }),
    OpsModule.forRoot(),
  ],
  providers: [HeartbeatJob],
})
export class AppModule {}
