import { BackgroundJob, JobContext, PipelineJob } from 'nestjs-background-jobs';
import { CampaignSchedulerResult, CampaignSchedulerWorker } from '../domain';
import { NOTIFICATIONS_QUEUE } from '../notification.schedules';

/** Every minute: due campaigns become pending executions. Per-campaign errors are the domain's to catch. */
@PipelineJob({ id: 'campaign-scheduler-pipeline', cron: '* * * * *', queue: NOTIFICATIONS_QUEUE })
export class CampaignSchedulerPipelineJob implements BackgroundJob<void, CampaignSchedulerResult> {
  constructor(private readonly worker: CampaignSchedulerWorker) {}

  execute(ctx: JobContext<void>): Promise<CampaignSchedulerResult> {
    return this.worker.processDueCampaigns(ctx.signal);
  }
}
