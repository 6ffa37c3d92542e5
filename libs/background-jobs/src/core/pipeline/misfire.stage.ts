import { Clock } from '../clock';
import { Logger } from '@nestjs/common';
import { MISFIRE_SKIP, MISFIRE_SKIP_LOG } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { CronCalendar } from '../ports/cron-calendar.port';
import { SkipRun } from '../run.types';
import { Invocation, PipelineStage } from './pipeline-stage';

/** Slack for a busy worker: a tick that fell due less than this before the run started is not missed. */
const MISFIRE_SLACK_MS = 1_000;
/** Counting stops here: the run is skipped either way. */
const MAX_COUNTED = 100;

/**
 * `misfire: 'skip'`: a scheduled tick that starts after a later tick was already due is a leftover from a time no
 * instance was running, and is skipped.
 */
export class MisfireStage implements PipelineStage {
  private readonly logger = new Logger('BackgroundJobs');

  constructor(
    private readonly calendar: CronCalendar,
    private readonly clock: Clock,
  ) {}

  appliesTo(definition: JobDefinition): boolean {
    return definition.cron !== undefined && definition.misfire === 'skip';
  }

  run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { definition, request } = invocation;
    // NOTE: first attempts only: a retry waits out its backoff by design and may start after the next tick was due;
    // that is the retry policy at work, not a tick missed while no instance was running.
    if (!request.fromSchedule || request.attempt !== 1 || !request.scheduledAt || !definition.cron) return next();
    const missed = this.calendar.ticksBetween(definition.cron, definition.timezone, request.scheduledAt, this.clock.now() - MISFIRE_SLACK_MS, MAX_COUNTED);
    if (missed === 0) return next();
    this.logger.warn(MISFIRE_SKIP_LOG(definition.id, missed));
    return Promise.resolve(new SkipRun(MISFIRE_SKIP(missed), 'misfire'));
  }
}
