import { JobDefinition } from './job-definition';
import { CronCalendar } from './ports/cron-calendar.port';
import { PolicyProblem } from './job-policy';
import { JOB_ID_PATTERN } from '../contracts';
import { DEFAULTS, intAtLeast } from './defaults';
import { OPTION_RULES } from './options/option-rules';
import { optionProblem } from './options/option-rule';

/** Job ids and schedule ids share one pattern (and, on BullMQ, the scheduler id space of a queue). */
export const SCHEDULE_ID = JOB_ID_PATTERN;

/** One schedule of a job: its decorator schedule (id = job id) or a runtime one made by `upsertSchedule`. */
export interface ScheduleSpec {
  readonly id: string;
  readonly jobId: string;
  readonly source: 'decorator' | 'runtime';
  readonly cron?: string;
  readonly everyMs?: number;
  readonly timezone: string;
  readonly data?: unknown;
  readonly tenantId: string | null;
  readonly startDate?: Date;
  readonly endDate?: Date;
  readonly misfire: 'skip' | 'run-once';
  readonly misfireThresholdMs: number;
}

/** What a scheduled run carries to the pipeline (misfire and pause read it). */
export type RunSchedule = Pick<
  ScheduleSpec,
  'id' | 'cron' | 'everyMs' | 'timezone' | 'misfire' | 'misfireThresholdMs' | 'endDate'
>;

/** The schedule `@PipelineJob` declares for a recurring job. */
export function decoratorSchedule(definition: JobDefinition): ScheduleSpec {
  const { id, cron, everyMs, timezone, data, startDate, endDate, misfire, misfireThresholdMs } = definition;
  return {
    id,
    jobId: id,
    source: 'decorator',
    cron,
    everyMs,
    timezone,
    data,
    tenantId: null,
    startDate,
    endDate,
    misfire,
    misfireThresholdMs,
  };
}

/** The timing of a schedule as given by a decorator or a caller, before validation. */
export interface ScheduleTiming {
  cron?: unknown;
  everyMs?: unknown;
  timezone?: unknown;
  startDate?: unknown;
  endDate?: unknown;
  misfire?: unknown;
  misfireThresholdMs?: unknown;
}

/**
 * The one check of a schedule's timing, for `@PipelineJob` at boot and `upsertSchedule` at call time: cron or
 * everyMs (not both; one of them when `required`), a known time zone, dates in order, the misfire policy.
 */
export function scheduleProblem(
  timing: ScheduleTiming,
  calendar: CronCalendar,
  required: boolean,
  minEveryMs: number = DEFAULTS.bounds.minEveryMs,
): PolicyProblem | undefined {
  const { cron, everyMs, timezone = DEFAULTS.timezone, startDate, endDate, misfire, misfireThresholdMs } = timing;
  if (cron !== undefined && everyMs !== undefined)
    return { option: 'cron/everyMs', value: { cron, everyMs }, expected: 'one of cron or everyMs, not both' };
  if (required && cron === undefined && everyMs === undefined)
    return { option: 'cron/everyMs', value: undefined, expected: 'a cron pattern or an everyMs interval' };
  if (!calendar.isKnownTimezone(timezone))
    return { option: 'timezone', value: timezone, expected: 'an IANA zone name such as "UTC" or "Europe/Berlin"' };
  if (cron !== undefined) {
    const problem = calendar.cronProblem(cron, timezone as string);
    if (problem)
      return { option: 'cron', value: cron, expected: `5 fields ("0 3 * * *") or 6 with seconds first (${problem})` };
  }
  const interval = optionProblem(OPTION_RULES.everyMs, 'everyMs', everyMs);
  if (interval) return interval;
  if (everyMs !== undefined && !intAtLeast(everyMs, minEveryMs)) {
    return {
      option: 'everyMs',
      value: everyMs,
      expected: `an integer ≥ ${minEveryMs} (milliseconds; the floor is forRoot({ bounds: { minEveryMs } }))`,
    };
  }
  for (const [option, value] of [
    ['startDate', startDate],
    ['endDate', endDate],
  ] as const) {
    if (value !== undefined && !(value instanceof Date && !Number.isNaN(value.getTime())))
      return { option, value, expected: 'a valid Date' };
  }
  if (startDate instanceof Date && endDate instanceof Date && endDate.getTime() <= startDate.getTime()) {
    return {
      option: 'endDate',
      value: endDate.toISOString(),
      expected: `a date after startDate ${startDate.toISOString()}`,
    };
  }
  return (
    optionProblem(OPTION_RULES.misfire, 'misfire', misfire) ??
    optionProblem(OPTION_RULES.misfireThresholdMs, 'misfireThresholdMs', misfireThresholdMs)
  );
}

/** Ticks of a schedule after `after` and no later than `until` (ms), counted up to `max`. */
export function ticksBetween(
  schedule: RunSchedule,
  calendar: CronCalendar,
  after: Date,
  until: number,
  max: number,
): number {
  if (schedule.everyMs !== undefined)
    return Math.min(max, Math.max(0, Math.floor((until - after.getTime()) / schedule.everyMs)));
  if (schedule.cron === undefined) return 0;
  return calendar.ticksBetween(schedule.cron, schedule.timezone, after, until, max);
}
