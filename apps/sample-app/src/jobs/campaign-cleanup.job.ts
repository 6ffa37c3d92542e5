import { BackgroundJob, JobContext, PipelineJob } from 'nestjs-background-jobs';
import { CampaignCleanupResult, CampaignCleanupWorker } from '../domain';
import { NOTIFICATIONS_QUEUE } from '../notification.schedules';

/** Daily soft delete of completed campaigns: set-based and idempotent, so no lock. */
@PipelineJob({ id: 'campaign-cleanup-pipeline', cron: '0 3 * * *', queue: NOTIFICATIONS_QUEUE })
export class CampaignCleanupPipelineJob implements BackgroundJob<void, CampaignCleanupResult> {
  constructor(private readonly worker: CampaignCleanupWorker) {}

  execute(ctx: JobContext<void>): Promise<CampaignCleanupResult> {
    return this.worker.cleanupCompletedCampaigns(ctx.signal);
  }
}
