import { DynamicModule, Module } from '@nestjs/common';
import { CampaignCleanupWorker } from './campaigns/campaign-cleanup.worker';
import { CampaignSchedulerWorker } from './campaigns/campaign-scheduler.worker';
import { CampaignWorkflowExecutorWorker } from './campaigns/campaign-workflow-executor.worker';
import { DATABASE_OPTIONS, DatabaseOptions, NotificationDatabase } from './database/notification.database';
import { DeliveryEngine } from './delivery/delivery-engine.service';
import {
  EmailSender,
  RecordingEmailSender,
  RecordingSmsSender,
  RecordingWhatsAppSender,
  SmsSender,
  WhatsAppSender,
} from './delivery/notification.senders';
import {
  DEFAULT_DOMAIN_OPTIONS,
  NOTIFICATION_DOMAIN_OPTIONS,
  NotificationDomainOptions,
} from './notification-domain.options';
import { NotificationReport } from './notification.report';
import { NotificationSeeder } from './notification.seeder';
import { TenantDigestWorker } from './digests/tenant-digest.worker';
import { NotificationDeadLetterCleanupWorker } from './retries/notification-cleanup.worker';
import { NotificationRetryWorker } from './retries/notification-retry.worker';
import { NotificationTenants } from './tenants/notification-tenants.service';

const WORKERS = [
  NotificationDeadLetterCleanupWorker,
  NotificationRetryWorker,
  CampaignCleanupWorker,
  CampaignSchedulerWorker,
  CampaignWorkflowExecutorWorker,
  TenantDigestWorker,
];

/**
 * The notification domain: its database (PostgreSQL or embedded PGlite, migrated at start-up), the channel
 * senders, the delivery engine and the workers the jobs delegate to. It owns every transaction.
 */
@Module({})
export class NotificationDomainModule {
  static forRoot(options: { database: DatabaseOptions; domain?: Partial<NotificationDomainOptions> }): DynamicModule {
    return {
      module: NotificationDomainModule,
      global: true,
      providers: [
        { provide: DATABASE_OPTIONS, useValue: options.database },
        { provide: NOTIFICATION_DOMAIN_OPTIONS, useValue: { ...DEFAULT_DOMAIN_OPTIONS, ...options.domain } },
        NotificationDatabase,
        // NOTE: in-process fakes that record what they "send"; a real host binds its providers here.
        { provide: EmailSender, useClass: RecordingEmailSender },
        { provide: SmsSender, useClass: RecordingSmsSender },
        { provide: WhatsAppSender, useClass: RecordingWhatsAppSender },
        DeliveryEngine,
        ...WORKERS,
        NotificationSeeder,
        NotificationReport,
        NotificationTenants,
      ],
      exports: [
        NotificationDatabase,
        DeliveryEngine,
        ...WORKERS,
        NotificationSeeder,
        NotificationReport,
        NotificationTenants,
      ],
    };
  }
}
