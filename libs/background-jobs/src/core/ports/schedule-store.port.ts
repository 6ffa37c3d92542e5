import { RecurringJobInfo } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { JobRegistry } from '../job-registry';
import { ScheduleSpec } from '../schedule';

/** A schedule's entry of `listRecurring`, as every schedule store reports it (`lastRun` is the facade's). */
export function recurringInfo(
  definition: JobDefinition,
  schedule: ScheduleSpec,
  paused: boolean,
  nextRunAt: Date | undefined,
): RecurringJobInfo {
  const info: RecurringJobInfo = {
    scheduleId: schedule.id,
    source: schedule.source,
    jobId: definition.id,
    timezone: schedule.timezone,
    tenantId: schedule.tenantId,
    queue: definition.queue,
    tenancy: definition.tenancy,
    enabled: definition.enabled,
    paused,
    nextRunAt,
  };
  if (schedule.cron !== undefined) info.cron = schedule.cron;
  if (schedule.everyMs !== undefined) info.everyMs = schedule.everyMs;
  if (schedule.startDate) info.startDate = schedule.startDate;
  if (schedule.endDate) info.endDate = schedule.endDate;
  if (schedule.data !== undefined) info.data = schedule.data;
  return info;
}

/**
 * Schedules: the decorator schedule of each recurring job, reconciled at boot, and runtime schedules, persisted
 * where the transport keeps its runs; paused cluster-wide; healed when the store lost them.
 */
export abstract class ScheduleStore {
  /** Makes the decorator schedules match `registry` (create, update, remove stale and replaced), asserts runtime ones, then keeps them healed. */
  abstract reconcile(registry: JobRegistry): Promise<void>;
  /** Every schedule, decorator and runtime, with its state; `lastRun` is filled by the facade from `lastRuns`. */
  abstract listRecurring(registry: JobRegistry): Promise<RecurringJobInfo[]>;
  /** Creates or replaces a runtime schedule in place (one scheduler per id). */
  abstract upsert(definition: JobDefinition, schedule: ScheduleSpec): Promise<RecurringJobInfo>;
  /** Removes a runtime schedule; false when there is none with this id. */
  abstract remove(scheduleId: string): Promise<boolean>;
  /** The runtime schedule with this id, if any. */
  abstract runtime(scheduleId: string): Promise<ScheduleSpec | undefined>;
  /** Execution id of each schedule's last run, by schedule id. */
  abstract lastRuns(): Promise<Map<string, string>>;
  /** Stops a schedule, persisted and cluster-wide, until `resume`. */
  abstract pause(definition: JobDefinition, schedule: ScheduleSpec): Promise<void>;
  /** Re-creates a paused schedule; it continues from its next tick. */
  abstract resume(definition: JobDefinition, schedule: ScheduleSpec): Promise<void>;
  /** Whether a schedule is paused now (a tick queued before the pause must not run). */
  abstract isPaused(scheduleId: string): Promise<boolean>;
  /** Records a run of a schedule as its last one; never throws (a failed write is logged). */
  abstract recordLastRun(scheduleId: string, executionId: string): Promise<void>;
  /**
   * Since when (ms) some instance has been running workers without a gap, or undefined when unknown: a tick due
   * before it fell due while no worker ran (misfire); one due after it is late only because workers were busy.
   */
  abstract workersUpSince(): Promise<number | undefined>;
  /** Re-asserts schedules and pause flags when the store came back empty; a no-op while it holds them. */
  abstract heal(): Promise<void>;
}
