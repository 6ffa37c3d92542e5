import { DynamicModule, Module } from '@nestjs/common';
import { BackgroundJobsModule, TENANT_DIRECTORY } from 'nestjs-background-jobs';
import { NotificationDomainModule } from './domain';
import { HeartbeatJob, NotificationTenantDirectory, pipelineJobProviders } from './jobs';
import { LegacyJobsModule } from './legacy/legacy-jobs.module';
import { activeSchedules, LEGACY_QUEUE, NOTIFICATIONS_QUEUE } from './notification.schedules';
import { OpsModule } from './ops/ops.module';
import { OpsTokenGuard } from './ops/ops-token.guard';
import { RunLogInterceptor } from './ops/run-log.interceptor';
import { readSampleConfig, SampleAppConfig } from './sample-app.config';

/**
 * The sample host: the notification domain, its migrated jobs (each enabled, or rolled back to its legacy
 * registration by JOBS_MODE / JOBS_DISABLED), a heartbeat, and the operations extras.
 */
@Module({})
export class AppModule {
  static forRoot(config: SampleAppConfig = readSampleConfig()): DynamicModule {
    const active = activeSchedules(config.mode, config.disabled);
    // NOTE: rollback is configuration, never a re-write: every legacy registration stays in the code. On BullMQ the
    // legacy module is always there, so that a cutover removes the legacy schedulers a previous deploy left behind.
    const legacy = !!config.redis || active.legacy.length > 0;
    return {
      module: AppModule,
      imports: [
        BackgroundJobsModule.forRoot({
          // NOTE: embedded by default so the sample runs on a machine without Redis; REDIS_URL (or a cluster, or
          // sentinels) switches to BullMQ.
          transport: config.redis
            ? { type: 'bullmq', connection: config.redis, prefix: config.prefix }
            : { type: 'local' },
          worker: config.worker ? { concurrency: 10 } : false,
          // NOTE: ui: true serves the dashboard at /jobs/ui behind the same guard as the REST surface.
          operations: { guard: OpsTokenGuard, ui: true },
          interceptors: [new RunLogInterceptor()],
          defaults: config.jobDefaults,
        }),
        NotificationDomainModule.forRoot({ database: config.database, domain: config.domain }),
        OpsModule.forRoot(
          config.redis
            ? {
                redis: config.redis,
                prefix: config.prefix,
                queues: ['background-jobs', NOTIFICATIONS_QUEUE, LEGACY_QUEUE],
              }
            : null,
        ),
        ...(legacy
          ? [
              LegacyJobsModule.forRoot({
                redis: config.redis,
                prefix: config.prefix,
                worker: config.worker,
                schedules: active.legacy,
              }),
            ]
          : []),
      ],
      providers: [
        HeartbeatJob,
        ...pipelineJobProviders(active.pipeline),
        NotificationTenantDirectory,
        { provide: TENANT_DIRECTORY, useExisting: NotificationTenantDirectory },
      ],
    };
  }
}
