import { BackgroundJob, JobContext, PipelineJob } from 'nestjs-background-jobs';
import { NotificationRetryWorker, ProcessDueRetriesResult } from '../domain';
import { NOTIFICATIONS_QUEUE } from '../notification.schedules';

/**
 * Sends due retries every two minutes. No job-level lock: the domain claims each entry atomically, and a lock
 * would only duplicate (and could interfere with) that claim. Calls only processDueRetries.
 */
@PipelineJob({
  id: 'notification-retry-processor-pipeline',
  cron: '*/2 * * * *',
  queue: NOTIFICATIONS_QUEUE,
})
export class NotificationRetryProcessorPipelineJob implements BackgroundJob<void, ProcessDueRetriesResult> {
  constructor(private readonly worker: NotificationRetryWorker) {}

  execute(ctx: JobContext<void>): Promise<ProcessDueRetriesResult> {
    return this.worker.processDueRetries(ctx.signal);
  }
}
