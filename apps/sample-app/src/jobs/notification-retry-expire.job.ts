import { BackgroundJob, JobContext, PipelineJob } from 'nestjs-background-jobs';
import { ExpireStaleRetriesResult, NotificationRetryWorker } from '../domain';
import { NOTIFICATIONS_QUEUE } from '../notification.schedules';

/** Hourly expiry of stale retries. Shares NotificationRetryWorker with the retry processor: calls only its own method. */
@PipelineJob({ id: 'notification-retry-expire-pipeline', cron: '0 * * * *', queue: NOTIFICATIONS_QUEUE })
export class NotificationRetryExpirePipelineJob implements BackgroundJob<void, ExpireStaleRetriesResult> {
  constructor(private readonly worker: NotificationRetryWorker) {}

  execute(ctx: JobContext<void>): Promise<ExpireStaleRetriesResult> {
    return this.worker.expireStaleRetries(ctx.signal);
  }
}
