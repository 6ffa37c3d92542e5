import { DynamicModule, Module } from '@nestjs/common';
import { BackgroundJobsModule } from 'nestjs-background-jobs';
import { NotificationDomainModule } from './domain';
import { HeartbeatJob, PIPELINE_JOBS } from './jobs';
import { LegacyJobsModule } from './legacy/legacy-jobs.module';
import { NOTIFICATIONS_QUEUE } from './notification.schedules';
import { OpsModule } from './ops/ops.module';
import { OpsTokenGuard } from './ops/ops-token.guard';
import { RunLogInterceptor } from './ops/run-log.interceptor';
import { readSampleConfig, SampleAppConfig } from './sample-app.config';

/**
 * The sample host: the notification domain, its six migrated jobs (or, with JOBS_MODE=legacy, the legacy
 * registrations they replaced), a heartbeat, and the operations extras.
 */
@Module({})
export class AppModule {
  static forRoot(config: SampleAppConfig = readSampleConfig()): DynamicModule {
    const legacy = config.mode === 'legacy';
    return {
      module: AppModule,
      imports: [
        BackgroundJobsModule.forRoot({
          // NOTE: embedded by default so the sample runs on a machine without Redis; REDIS_URL switches to BullMQ.
          transport: config.redisUrl ? { type: 'bullmq', connection: { url: config.redisUrl }, prefix: config.prefix } : { type: 'local' },
          worker: config.worker ? { concurrency: 10 } : false,
          // NOTE: ui: true serves the dashboard at /jobs/ui behind the same guard as the REST surface.
          operations: { guard: OpsTokenGuard, ui: true },
          interceptors: [new RunLogInterceptor()],
          defaults: config.jobDefaults,
        }),
        NotificationDomainModule.forRoot({ database: config.database, domain: config.domain }),
        OpsModule.forRoot(
          config.redisUrl ? { connection: { url: config.redisUrl }, prefix: config.prefix, queues: ['background-jobs', NOTIFICATIONS_QUEUE] } : null,
        ),
        // NOTE: rollback is this flag, never a re-write: the legacy registrations stay in the code.
        ...(legacy && config.redisUrl ? [LegacyJobsModule.forRoot({ redisUrl: config.redisUrl, prefix: config.prefix, worker: config.worker })] : []),
      ],
      providers: [HeartbeatJob, ...(legacy ? [] : PIPELINE_JOBS)],
    };
  }
}
