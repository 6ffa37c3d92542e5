import { Injectable } from '@nestjs/common';
import {
  BatchOptions,
  BatchRun,
  BatchSummary,
  EnqueueArgs,
  JobExecution,
  JobResultOf,
  LimitOverride,
  RecurringJobInfo,
  RunNowArgs,
  ScheduleOptions,
  TenantContext,
} from '../contracts';
import { AdmissionStore } from './ports/admission.port';
import { setLimit } from './admission/set-limit';
import { Clock } from './clock';
import { DEFAULTS } from './defaults';
import { BatchesFacade } from './facade/batches.facade';
import { ExecutionsFacade } from './facade/executions.facade';
import { BatchStore } from './ports/batch-store.port';
import { DependencyStore } from './ports/dependency-store.port';
import { TenantDirectoryLocator } from './ports/tenant-directory-locator.port';
import { FacadeContext, JobRef } from './facade/facade-context';
import { RunsFacade } from './facade/runs.facade';
import { SchedulesFacade } from './facade/schedules.facade';
import { JobRegistry } from './job-registry';
import { ResolvedJobsOptions } from './resolved-options';
import { CronCalendar } from './ports/cron-calendar.port';
import { ExecutionReader } from './ports/execution-reader.port';
import { RunQueue } from './ports/run-queue.port';
import { ScheduleStore } from './ports/schedule-store.port';
import { ExecutionPage, ExecutionQuery } from './ports/transport.types';

export { JobRef } from './facade/facade-context';

/**
 * The facade a host injects to enqueue, run, inspect and cancel jobs.
 */
// NOTE: each concern is one file of core/facade (runs, schedules, executions, batches) sharing one FacadeContext; this class
// only types and documents the public methods and delegates, so a new method is its part's code plus one line here.
@Injectable()
export class BackgroundJobs {
  private readonly runs: RunsFacade;
  private readonly schedules: SchedulesFacade;
  private readonly executions: ExecutionsFacade;
  private readonly limits: (name: string, key: string, override: LimitOverride | null) => Promise<void>;
  private readonly batches: BatchesFacade;

  constructor(
    registry: JobRegistry,
    runs: RunQueue,
    executions: ExecutionReader,
    schedules: ScheduleStore,
    tenant: TenantContext,
    options: ResolvedJobsOptions,
    calendar: CronCalendar,
    clock: Clock,
    admission: AdmissionStore,
    batches: BatchStore,
    dependencies: DependencyStore,
    directories: TenantDirectoryLocator,
  ) {
    this.limits = (name, key, override) => setLimit(registry, options.limits, admission, runs, name, key, override);
    const context = new FacadeContext(registry, runs, executions, schedules, tenant, options, calendar, clock);
    this.runs = new RunsFacade(context, dependencies);
    this.schedules = new SchedulesFacade(context);
    this.executions = new ExecutionsFacade(context);
    this.batches = new BatchesFacade(context, this.runs, batches, directories);
  }

  /**
   * Enqueues related runs together (at most 10,000) and resolves the batch id and each run's execution id, in order.
   * `onComplete` is enqueued exactly once when every run has ended, `onSuccess` when every run completed; their runs
   * see the batch's counts in `ctx.batch`. Rejects with InvalidJobInputError, enqueueing nothing, on bad input
   * (an empty batch, too many runs, an unknown job). See docs/composition.md.
   */
  batch(runs: BatchRun[], options: BatchOptions = {}): Promise<{ batchId: string; executionIds: string[] }> {
    return this.batches.batch(runs, options);
  }

  /** A batch's counts and state; null when unknown. */
  getBatch(batchId: string): Promise<BatchSummary | null> {
    return this.batches.getBatch(batchId);
  }

  /**
   * Queues one run of `job` and resolves its execution id. The tenant defaults to the caller's current one. With
   * `after`, a continuation: it runs once those executions have ended (docs/composition.md).
   * Rejects with InvalidJobInputError, enqueueing nothing, on bad input (an unknown `after` id included).
   */
  enqueue<J extends JobRef>(job: J, ...[data, options = {}]: EnqueueArgs<J>): Promise<string> {
    return this.runs.enqueue(job, data, options);
  }

  /** Enqueues a run and waits for its final state (completed, failed, cancelled or skipped). */
  runNow<J extends JobRef>(job: J, ...[options = {}]: RunNowArgs<J>): Promise<JobExecution<JobResultOf<J>>> {
    return this.runs.runNow(job, options) as Promise<JobExecution<JobResultOf<J>>>;
  }

  /**
   * Runs a schedule's tick now, as the schedule would (its tenant and payload; a per-tenant job at host level fans
   * out). Takes a job (its decorator schedule, or host level without payload when it has none) or a runtime
   * schedule id. Resolves the execution id.
   */
  trigger(job: JobRef): Promise<string> {
    return this.runs.trigger(job);
  }

  /**
   * Creates or replaces (in place, one scheduler per id) a runtime schedule of `job`: cron or everyMs, with its own
   * payload, tenant and window. Persisted where the transport keeps its runs (Redis on BullMQ), so it survives
   * restarts and other instances' boots. Rejects with InvalidJobInputError, scheduling nothing, on bad input.
   */
  upsertSchedule<T = unknown>(job: JobRef, options: ScheduleOptions & { data?: T }): Promise<RecurringJobInfo> {
    return this.schedules.upsertSchedule(job, options);
  }

  /** Removes a runtime schedule on every instance (its next tick with it); false when there is none with this id. */
  removeSchedule(scheduleId: string): Promise<boolean> {
    return this.schedules.removeSchedule(scheduleId);
  }

  /** Cancels a waiting, delayed or running run on any instance; false when unknown or already finished. */
  cancel(executionId: string): Promise<boolean> {
    return this.runs.cancel(executionId);
  }

  /**
   * The current snapshot of a run, or null when unknown (or removed by history retention). `R` types `result`
   * (an id carries no type: `getExecution<ReportResult>(id)`, or `JobResultOf<typeof MyJob>`).
   */
  getExecution<R = unknown>(executionId: string): Promise<JobExecution<R> | null> {
    return this.executions.getExecution(executionId) as Promise<JobExecution<R> | null>;
  }

  /** Every recurring job of this app with its schedule and next run. */
  listRecurring(): Promise<RecurringJobInfo[]> {
    return this.schedules.listRecurring();
  }

  /**
   * Stops a schedule (a recurring job's, or a runtime schedule by id) on every instance until `resume`; persisted
   * in Redis, so it survives restarts. Ticks already queued are skipped. `trigger` and `enqueue` still work.
   */
  pause(job: JobRef): Promise<void> {
    return this.schedules.pause(job);
  }

  /**
   * Overrides one key of a limit (a shared limit's name, or a job id for the job's own `rateLimit`/`concurrency`):
   * kept in the transport's store, so every instance applies it at its next admission; `null` restores the default.
   * For a fair job, `weight` gives the tenant (the key) n shares of its queue's round robin.
   * Rejects with UnknownLimitError, storing nothing, for an unknown limit or a bad override.
   */
  setLimit(limitNameOrJobId: string, key: string, override: LimitOverride | null): Promise<void> {
    return this.limits(limitNameOrJobId, key, override);
  }

  /** Re-creates a paused schedule; it runs again from its next tick. Resuming a running schedule changes nothing. */
  resume(job: JobRef): Promise<void> {
    return this.schedules.resume(job);
  }

  /**
   * Re-queues a failed run as a fresh attempt; false when the id is unknown (or removed by retention).
   * Rejects with InvalidJobInputError when the run is not failed.
   */
  retry(executionId: string): Promise<boolean> {
    return this.executions.retry(executionId);
  }

  /** Executions, newest first, filtered by state, job and tenant (`null`: host-level runs). */
  listExecutions(query: Partial<ExecutionQuery> = {}): Promise<ExecutionPage> {
    return this.executions.listExecutions(query);
  }

  /** The last `limit` lines a run logged, oldest first; null when the run is unknown. */
  getExecutionLogs(
    executionId: string,
    limit: number = DEFAULTS.logLines,
  ): Promise<{ lines: string[]; count: number } | null> {
    return this.executions.getExecutionLogs(executionId, limit);
  }
}
