import { Injectable, Logger } from '@nestjs/common';
import {
  CampaignCleanupWorker,
  CampaignSchedulerWorker,
  CampaignWorkflowExecutorWorker,
  NotificationDeadLetterCleanupWorker,
  NotificationRetryWorker,
  NotificationTenants,
  TenantDigestWorker,
} from '../domain';
import { LegacyJobId } from '../notification.schedules';

/**
 * LEGACY (kept for rollback): what each hand-rolled registration ran, calling the domain workers directly. No
 * pipeline: no tenant context, no failure classification, no cancellation. Do not extend it; the `@PipelineJob`s
 * in ../jobs replace it. Shared by the BullMQ processor and the embedded crons.
 */
@Injectable()
export class LegacyNotificationJobs {
  private readonly logger = new Logger('LegacyNotificationJobs');

  constructor(
    private readonly deadLetters: NotificationDeadLetterCleanupWorker,
    private readonly retries: NotificationRetryWorker,
    private readonly campaignCleanup: CampaignCleanupWorker,
    private readonly campaignScheduler: CampaignSchedulerWorker,
    private readonly workflowExecutor: CampaignWorkflowExecutorWorker,
    private readonly tenants: NotificationTenants,
    private readonly digests: TenantDigestWorker,
  ) {}

  async run(id: LegacyJobId): Promise<unknown> {
    this.logger.log(`legacy ${id}`);
    switch (id) {
      case 'notification-deadletter-cleanup':
        return this.deadLetters.cleanupDeadLetters();
      case 'notification-retry-cleanup':
        return this.deadLetters.cleanupStaleRetries();
      case 'notification-retry-expire':
        return this.retries.expireStaleRetries();
      case 'notification-retry-processor':
        return this.retries.processDueRetries();
      case 'campaign-cleanup':
        return this.campaignCleanup.cleanupCompletedCampaigns();
      case 'campaign-scheduler':
        return this.campaignScheduler.processDueCampaigns();
      case 'campaign-workflow-executor':
        return this.workflowExecutor.processPendingSteps();
      case 'tenant-daily-digest': {
        // NOTE: the legacy shape: every tenant in one run, so one tenant's failure stops the ones after it.
        const digests = [];
        for (const tenantId of await this.tenants.listActiveIds())
          digests.push(await this.digests.digestDay(tenantId, new Date()));
        return digests;
      }
      default:
        throw new Error(`Legacy job "${id as string}" does not exist. Fix: use one of the ids in LEGACY_SCHEDULES.`);
    }
  }
}
