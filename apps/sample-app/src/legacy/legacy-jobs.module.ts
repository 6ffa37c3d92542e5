import { DynamicModule, Module, Provider } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { LEGACY_QUEUE } from '../notification.schedules';
import { bullmqConnection, queuePrefix } from '../sample-app.redis';
import { LegacyCronRegistrar } from './legacy-cron.registrar';
import { LEGACY_JOBS_OPTIONS, LegacyJobsOptions } from './legacy-jobs.options';
import { LegacyNotificationJobs } from './legacy-notification.jobs';
import { LegacyNotificationProcessor } from './legacy-notification.processor';
import { LegacyRedisConnection, LEGACY_REDIS } from './legacy-redis.connection';
import { LegacySchedulesRegistrar } from './legacy-schedules.registrar';

/**
 * LEGACY (kept for rollback): the hand-rolled registrations the `@PipelineJob`s replaced. On BullMQ, plain job
 * schedulers and a @nestjs/bullmq processor on the legacy queue; without Redis, in-process crons.
 */
@Module({})
export class LegacyJobsModule {
  static forRoot(options: LegacyJobsOptions): DynamicModule {
    const providers: Provider[] = [{ provide: LEGACY_JOBS_OPTIONS, useValue: options }, LegacyNotificationJobs];
    if (!options.redis)
      return {
        module: LegacyJobsModule,
        providers: [...providers, LegacyCronRegistrar],
        exports: [LegacyNotificationJobs],
      };
    const redis = bullmqConnection(options.redis);
    providers.push(LegacySchedulesRegistrar, { provide: LEGACY_REDIS, useValue: redis }, LegacyRedisConnection);
    if (options.worker && options.schedules.length > 0) providers.push(LegacyNotificationProcessor);
    return {
      module: LegacyJobsModule,
      imports: [
        // NOTE: the queue's own prefix (hash-tagged on a cluster), so bull-board and the library's rule agree on its keys.
        BullModule.forRoot({
          connection: redis.connection,
          prefix: queuePrefix(options.redis, options.prefix, LEGACY_QUEUE),
        }),
        BullModule.registerQueue({ name: LEGACY_QUEUE }),
      ],
      providers,
      exports: [LegacyNotificationJobs],
    };
  }
}
