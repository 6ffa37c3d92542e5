import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CronJob } from 'cron';
import { LegacyJobId } from '../notification.schedules';
import { LEGACY_JOBS_OPTIONS, LegacyJobsOptions } from './legacy-jobs.options';
import { LegacyNotificationJobs } from './legacy-notification.jobs';

/**
 * LEGACY (kept for rollback), without Redis: the legacy registrations as in-process crons, the way an app that
 * had no queue yet ran them. They live and die with this process, on every instance.
 */
@Injectable()
export class LegacyCronRegistrar implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('LegacySchedules');
  private readonly crons = new Map<LegacyJobId, CronJob>();

  constructor(
    @Inject(LEGACY_JOBS_OPTIONS) private readonly options: LegacyJobsOptions,
    private readonly jobs: LegacyNotificationJobs,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.options.worker) return;
    for (const { id, cron } of this.options.schedules) {
      const job = CronJob.from({
        cronTime: cron,
        timeZone: 'UTC',
        start: true,
        onTick: () => {
          this.jobs.run(id).catch((error: Error) => this.logger.error(`legacy ${id} failed: ${error.message}`));
        },
      });
      this.crons.set(id, job);
    }
    this.logger.log(
      `${this.crons.size} legacy cron(s) in this process${this.crons.size ? `: ${[...this.crons.keys()].join(', ')}` : ''}`,
    );
  }

  onApplicationShutdown(): void {
    this.stopAll();
  }

  /** Stops every legacy cron (at shutdown; the demo also stops them so only its own ticks run). */
  stopAll(): void {
    for (const cron of this.crons.values()) void cron.stop();
    this.crons.clear();
  }
}
