import { RecurringJobInfo } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { JobRegistry } from '../job-registry';

/** A recurring job's entry of `listRecurring`, as every schedule store reports it (`lastRun` is the facade's). */
export function recurringInfo(definition: JobDefinition, paused: boolean, nextRunAt: Date | undefined): RecurringJobInfo {
  return {
    jobId: definition.id,
    cron: definition.cron as string,
    timezone: definition.timezone,
    queue: definition.queue,
    tenancy: definition.tenancy,
    enabled: definition.enabled,
    paused,
    nextRunAt,
  };
}

/** Schedules: one per recurring job, reconciled at boot, paused cluster-wide, healed when the store lost them. */
export abstract class ScheduleStore {
  /** Makes the stored schedules match `registry` (create, update, remove stale and replaced), then keeps them healed. */
  abstract reconcile(registry: JobRegistry): Promise<void>;
  /** Every recurring job with its schedule state; `lastRun` is filled by the facade from `lastRuns`. */
  abstract listRecurring(registry: JobRegistry): Promise<RecurringJobInfo[]>;
  /** Execution id of each recurring job's last run, by job id. */
  abstract lastRuns(): Promise<Map<string, string>>;
  /** Stops a recurring job's schedule, persisted and cluster-wide, until `resume`. */
  abstract pause(definition: JobDefinition): Promise<void>;
  /** Re-creates a paused job's schedule; it continues from its next tick. */
  abstract resume(definition: JobDefinition): Promise<void>;
  /** Whether a recurring job is paused now (a tick queued before the pause must not run). */
  abstract isPaused(jobId: string): Promise<boolean>;
  /** Records a run of a recurring job as its last one; never throws (a failed write is logged). */
  abstract recordLastRun(jobId: string, executionId: string): Promise<void>;
  /** Re-asserts schedules and pause flags when the store came back empty; a no-op while it holds them. */
  abstract heal(): Promise<void>;
}
