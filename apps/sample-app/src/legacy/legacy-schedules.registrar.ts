import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { LEGACY_QUEUE, LEGACY_SCHEDULES } from '../notification.schedules';
import { LEGACY_JOBS_OPTIONS, LegacyJobsOptions } from './legacy-jobs.options';

/**
 * LEGACY (kept for rollback), on BullMQ: makes the legacy queue hold exactly the legacy schedulers this
 * configuration wants (all in legacy mode, the idempotent ones in additive mode, those of rolled-back jobs) and
 * removes the others. NOTE: the pipeline jobs' `replaces` cannot do the removal: it only looks at the job's own
 * queue, and the legacy schedulers live on their own queue.
 */
@Injectable()
export class LegacySchedulesRegistrar implements OnApplicationBootstrap {
  private readonly logger = new Logger('LegacySchedules');

  constructor(
    @InjectQueue(LEGACY_QUEUE) private readonly queue: Queue,
    @Inject(LEGACY_JOBS_OPTIONS) private readonly options: LegacyJobsOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const { id, cron } of this.options.schedules) {
      await this.queue.upsertJobScheduler(id, { pattern: cron, tz: 'UTC' }, { name: id, data: {} });
    }
    const wanted = new Set(this.options.schedules.map((s) => s.id));
    const removed: string[] = [];
    for (const { id } of LEGACY_SCHEDULES) {
      if (!wanted.has(id) && (await this.queue.removeJobScheduler(id))) removed.push(id);
    }
    this.logger.log(
      `${wanted.size} legacy scheduler(s) on "${LEGACY_QUEUE}"${wanted.size ? `: ${[...wanted].join(', ')}` : ''}` +
        (removed.length ? `; removed ${removed.join(', ')}` : ''),
    );
  }
}
