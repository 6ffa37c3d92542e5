import { Clock } from '../clock';
import { Logger } from '@nestjs/common';
import { MISFIRE_SKIP, MISFIRE_SKIP_LOG, SCHEDULE_ENDED_SKIP } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { CronCalendar } from '../ports/cron-calendar.port';
import { isTick, RunKind } from '../run-kind';
import { ScheduleStore } from '../ports/schedule-store.port';
import { SkipRun } from '../run.types';
import { decoratorSchedule, ticksBetween } from '../schedule';
import { Invocation, PipelineStage } from './pipeline-stage';

/** Counting stops here: the run is skipped either way. */
const MAX_COUNTED = 100;

/**
 * `misfire: 'skip'`: a tick that starts more than `misfireThresholdMs` after it was due, while a later tick was
 * already due, and that fell due while no worker ran, is a leftover from that downtime, and is skipped. `'run-once'` (the default) runs
 * it: the transports keep one pending tick per schedule, so any number of missed ticks make one catch-up run.
 */
export class MisfireStage implements PipelineStage {
  private readonly logger = new Logger('BackgroundJobs');

  constructor(
    private readonly calendar: CronCalendar,
    private readonly schedules: ScheduleStore,
    private readonly clock: Clock,
  ) {}

  appliesTo(_definition: JobDefinition, kind: RunKind): boolean {
    return isTick(kind);
  }

  async run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { definition, request } = invocation;
    // NOTE: first attempts only: a retry waits out its backoff by design and may start after the next tick was due;
    // that is the retry policy at work, not a tick missed while no instance was running.
    if (!isTick(request.kind) || request.attempt !== 1 || !request.scheduledAt) return next();
    const schedule = request.schedule ?? decoratorSchedule(definition);
    // NOTE: BullMQ's `every` may queue one tick past the end date (it checks the date when it makes the next tick,
    // not the tick's own time): a tick due after its schedule ended does not run.
    if (schedule.endDate && request.scheduledAt.getTime() > schedule.endDate.getTime()) {
      return new SkipRun(SCHEDULE_ENDED_SKIP(schedule.id, schedule.endDate), 'misfire');
    }
    if (schedule.misfire !== 'skip') return next();
    const now = this.clock.now();
    const lateMs = now - request.scheduledAt.getTime();
    if (lateMs <= schedule.misfireThresholdMs) return next();
    const missed = ticksBetween(
      schedule,
      this.calendar,
      request.scheduledAt,
      now - schedule.misfireThresholdMs,
      MAX_COUNTED,
    );
    if (missed === 0) return next();
    // NOTE: a tick due while workers ran (since before it fell due, without a gap) is late only because they were
    // busy: it runs, late. Only one that fell due while no worker ran is a misfire.
    const upSince = await this.schedules.workersUpSince();
    if (upSince === undefined || request.scheduledAt.getTime() >= upSince) return next();
    this.logger.warn(MISFIRE_SKIP_LOG(schedule.id, missed, lateMs));
    return new SkipRun(MISFIRE_SKIP(missed, lateMs, schedule.misfireThresholdMs), 'misfire');
  }
}
