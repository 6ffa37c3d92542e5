import { BackgroundJob, JobContext, PipelineJob } from 'nestjs-background-jobs';
import { CampaignWorkflowExecutorWorker, WorkflowExecutorResult } from '../domain';
import { NOTIFICATIONS_QUEUE } from '../notification.schedules';

/**
 * Every two minutes: runs pending campaign executions. Two concurrent runs are resolved by the domain's atomic
 * claim of each execution; this layer adds no dedup of its own.
 */
@PipelineJob({
  id: 'campaign-workflow-executor-pipeline',
  cron: '*/2 * * * *',
  queue: NOTIFICATIONS_QUEUE,
})
export class CampaignWorkflowExecutorPipelineJob implements BackgroundJob<void, WorkflowExecutorResult> {
  constructor(private readonly worker: CampaignWorkflowExecutorWorker) {}

  execute(ctx: JobContext<void>): Promise<WorkflowExecutorResult> {
    return this.worker.processPendingSteps(ctx.signal);
  }
}
