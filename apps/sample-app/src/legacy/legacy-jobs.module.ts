import { DynamicModule, Module, Provider } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { NOTIFICATIONS_QUEUE } from '../notification.schedules';
import { LegacyNotificationProcessor } from './legacy-notification.processor';
import { LegacySchedulesRegistrar } from './legacy-schedules.registrar';

/**
 * LEGACY (kept for rollback): the hand-rolled registrations the six `@PipelineJob`s replaced. Imported only with
 * `JOBS_MODE=legacy`, which needs Redis (they are plain BullMQ job schedulers and a plain processor).
 */
@Module({})
export class LegacyJobsModule {
  static forRoot(options: { redisUrl: string; prefix: string; worker: boolean }): DynamicModule {
    const providers: Provider[] = [LegacySchedulesRegistrar];
    if (options.worker) providers.push(LegacyNotificationProcessor);
    return {
      module: LegacyJobsModule,
      imports: [
        BullModule.forRoot({ connection: { url: options.redisUrl }, prefix: options.prefix }),
        BullModule.registerQueue({ name: NOTIFICATIONS_QUEUE }),
      ],
      providers,
    };
  }
}
