import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { LEGACY_SCHEDULES, NOTIFICATIONS_QUEUE, PIPELINE_SCHEDULES } from '../notification.schedules';

/**
 * LEGACY (kept for rollback, `JOBS_MODE=legacy`): re-creates the seven hand-rolled job schedulers and removes
 * the six pipeline ones, the mirror image of the pipeline jobs' `replaces`, so exactly one set is scheduled.
 */
@Injectable()
export class LegacySchedulesRegistrar implements OnApplicationBootstrap {
  private readonly logger = new Logger('LegacySchedules');

  constructor(@InjectQueue(NOTIFICATIONS_QUEUE) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const { id, cron } of LEGACY_SCHEDULES) {
      await this.queue.upsertJobScheduler(id, { pattern: cron, tz: 'UTC' }, { name: id, data: {} });
    }
    const removed: string[] = [];
    for (const { id } of PIPELINE_SCHEDULES) {
      if (await this.queue.removeJobScheduler(id)) removed.push(id);
    }
    this.logger.warn(
      `JOBS_MODE=legacy: ${LEGACY_SCHEDULES.length} legacy schedulers on "${NOTIFICATIONS_QUEUE}"` +
        (removed.length ? `; removed pipeline schedulers ${removed.join(', ')}` : ''),
    );
  }
}
