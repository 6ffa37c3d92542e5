import { DynamicModule, Module, Provider } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { LEGACY_QUEUE } from '../notification.schedules';
import { LegacyCronRegistrar } from './legacy-cron.registrar';
import { LEGACY_JOBS_OPTIONS, LegacyJobsOptions } from './legacy-jobs.options';
import { LegacyNotificationJobs } from './legacy-notification.jobs';
import { LegacyNotificationProcessor } from './legacy-notification.processor';
import { LegacySchedulesRegistrar } from './legacy-schedules.registrar';

/**
 * LEGACY (kept for rollback): the hand-rolled registrations the `@PipelineJob`s replaced. On BullMQ, plain job
 * schedulers and a @nestjs/bullmq processor on the legacy queue; without Redis, in-process crons.
 */
@Module({})
export class LegacyJobsModule {
  static forRoot(options: LegacyJobsOptions): DynamicModule {
    const providers: Provider[] = [{ provide: LEGACY_JOBS_OPTIONS, useValue: options }, LegacyNotificationJobs];
    if (!options.redisUrl) return { module: LegacyJobsModule, providers: [...providers, LegacyCronRegistrar], exports: [LegacyNotificationJobs] };
    providers.push(LegacySchedulesRegistrar);
    if (options.worker && options.schedules.length > 0) providers.push(LegacyNotificationProcessor);
    return {
      module: LegacyJobsModule,
      imports: [BullModule.forRoot({ connection: { url: options.redisUrl }, prefix: options.prefix }), BullModule.registerQueue({ name: LEGACY_QUEUE })],
      providers,
      exports: [LegacyNotificationJobs],
    };
  }
}
