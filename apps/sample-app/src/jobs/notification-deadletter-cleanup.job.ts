import { BackgroundJob, JobContext, PipelineJob } from 'nestjs-background-jobs';
import { CleanupResult, NotificationDeadLetterCleanupWorker } from '../domain';
import { NOTIFICATIONS_QUEUE } from '../notification.schedules';

/** Daily dead-letter and stale-retry housekeeping. Idempotent, so no lock; host level. */
@PipelineJob({
  id: 'notification-deadletter-cleanup-pipeline',
  cron: '0 2 * * *',
  queue: NOTIFICATIONS_QUEUE,
})
export class NotificationDeadLetterCleanupPipelineJob implements BackgroundJob<
  void,
  { deadLetters: CleanupResult; staleRetries: CleanupResult }
> {
  constructor(private readonly worker: NotificationDeadLetterCleanupWorker) {}

  // NOTE: the two legacy registrations, in their order, as one job.
  async execute(ctx: JobContext<void>): Promise<{ deadLetters: CleanupResult; staleRetries: CleanupResult }> {
    const deadLetters = await this.worker.cleanupDeadLetters(ctx.signal);
    const staleRetries = await this.worker.cleanupStaleRetries(ctx.signal);
    return { deadLetters, staleRetries };
  }
}
