import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { LEGACY_QUEUE, LegacyJobId } from '../notification.schedules';
import { LegacyNotificationJobs } from './legacy-notification.jobs';

/**
 * LEGACY (kept for rollback): the hand-rolled @nestjs/bullmq processor, one job name per legacy registration,
 * on the legacy queue of its own (a pipeline worker on the same queue would take its jobs, and it theirs).
 */
@Processor(LEGACY_QUEUE)
export class LegacyNotificationProcessor extends WorkerHost {
  constructor(private readonly jobs: LegacyNotificationJobs) {
    super();
  }

  process(job: Job): Promise<unknown> {
    return this.jobs.run(job.name as LegacyJobId);
  }
}
