import { Logger } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import {
  CampaignCleanupWorker,
  CampaignSchedulerWorker,
  CampaignWorkflowExecutorWorker,
  NotificationDeadLetterCleanupWorker,
  NotificationRetryWorker,
} from '../domain';
import { LegacyJobId, NOTIFICATIONS_QUEUE } from '../notification.schedules';

/**
 * LEGACY (kept for rollback, `JOBS_MODE=legacy`): the hand-rolled @nestjs/bullmq processor that called the
 * domain workers directly, one job name per legacy registration. No pipeline: no tenant context, no failure
 * classification, no cancellation. Do not extend it; the `@PipelineJob`s in ../jobs replace it.
 */
@Processor(NOTIFICATIONS_QUEUE)
export class LegacyNotificationProcessor extends WorkerHost {
  private readonly logger = new Logger('LegacyNotificationProcessor');

  constructor(
    private readonly deadLetters: NotificationDeadLetterCleanupWorker,
    private readonly retries: NotificationRetryWorker,
    private readonly campaignCleanup: CampaignCleanupWorker,
    private readonly campaignScheduler: CampaignSchedulerWorker,
    private readonly workflowExecutor: CampaignWorkflowExecutorWorker,
  ) {
    super();
  }

  async process(job: Job): Promise<unknown> {
    this.logger.log(`legacy ${job.name} (${job.id})`);
    switch (job.name as LegacyJobId) {
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
      default:
        throw new Error(`Legacy processor: unknown job "${job.name}" on queue "${NOTIFICATIONS_QUEUE}".`);
    }
  }
}
