import { DedupeOptions, JobWaiting } from './flow-control.interface';
import { JobDataOf } from './background-job.interface';
import { JobStep } from './composition.interface';
import { FailureKind, JobState } from './job-state.types';

/** A run's failure, classified. */
export interface JobFailure {
  kind: FailureKind;
  message: string;
  /** Stack of the error the job threw (the first 8 KB), when there was one. */
  stack?: string;
}

/** A snapshot of one run. */
export interface JobExecution<R = unknown> {
  executionId: string;
  jobId: string;
  tenantId: string | null;
  state: JobState;
  /** Attempts started so far. */
  attempts: number;
  data?: unknown;
  /** The value `execute` returned (completed runs). */
  result?: R;
  failure?: JobFailure;
  /** Why the run was skipped (`skipped` runs). */
  skipReason?: string;
  progress?: number;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  scheduledAt?: Date;
  /** Why a pending or delayed run waits (a rate limit, a concurrency key, …), when something holds it back. */
  waiting?: JobWaiting;
  /** The run's durable steps (`ctx.step`) in the order they first ran; absent when it has none. */
  steps?: JobStep[];
  /** A continuation's dependencies (`enqueue(…, { after })`): their execution ids, in the order given. */
  after?: string[];
  /** A continuation's policy for a failed or cancelled dependency. */
  onDependencyFailure?: 'cancel' | 'run';
}

/** Options of `BackgroundJobs.enqueue`. */
export interface EnqueueOptions {
  /**
   * Tenant to run as; `null` for host level.
   * @default the caller's current tenant
   */
  tenantId?: string | null;
  /**
   * Run no earlier than this many ms from now.
   * @default 0 (as soon as a worker is free)
   */
  delayMs?: number;
  /**
   * Run no earlier than this time. Exclusive with `delayMs`.
   * @default undefined (as soon as a worker is free)
   */
  runAt?: Date;
  /**
   * Until the run with this key is taken by a worker, another enqueue with it returns the first run's id: the same
   * as `dedupe: { key, mode: 'until-started' }`. Exclusive with `dedupe`.
   * @default undefined (every enqueue queues a run)
   */
  dedupeKey?: string;
  /**
   * One run per key of the job while the mode's window lasts (until started, until finished, debounce, throttle).
   * @default undefined (every enqueue queues a run)
   */
  dedupe?: DedupeOptions;
  /**
   * Tier of the run, 0 (first) to 7: every run of a lower tier of the queue goes before any of a higher one; within a
   * tier a fair job's tenants still take turns (round robin) and each lane is FIFO. Plain jobs: BullMQ's priority.
   * @default 0 (the first tier: a tier only ever moves a run back)
   */
  priority?: number;
  /**
   * A continuation: run once these executions have ended (completed, skipped, failed for good or cancelled). The run
   * waits parked (`waiting.reason: 'dependencies'`) and `ctx.dependencies` gives each one's state and result.
   * @default undefined (no dependencies)
   */
  after?: string | string[];
  /**
   * With `after`: what a failed or cancelled dependency does to this run: `cancel` it (its failure names the
   * dependency), or `run` it anyway.
   * @default 'cancel'
   */
  onDependencyFailure?: 'cancel' | 'run';
}

/** Options of `BackgroundJobs.runNow`. */
export interface RunNowOptions<T = unknown> extends EnqueueOptions {
  /**
   * Payload for the run (`ctx.data`).
   * @default undefined
   */
  data?: T;
  /**
   * Give up waiting (the run goes on) after this long.
   * @default 60000
   */
  waitTimeoutMs?: number;
}

/**
 * What `BackgroundJobs.enqueue` takes after the job: the payload, then the options. The payload is required when the
 * job's payload type does not accept `undefined`, so a job that reads `ctx.data` cannot be queued without one; it stays
 * optional for a `void` job, an optional payload (`JobContext<T | undefined>`) and a job id (payload `unknown`).
 */
export type EnqueueArgs<J> =
  undefined extends JobDataOf<J>
    ? [data?: JobDataOf<J>, options?: EnqueueOptions]
    : [data: JobDataOf<J>, options?: EnqueueOptions];

/**
 * What `BackgroundJobs.runNow` takes after the job: its options, with `data` required when the job's payload type does
 * not accept `undefined` (as for `enqueue`, see `EnqueueArgs`).
 */
export type RunNowArgs<J> =
  undefined extends JobDataOf<J>
    ? [options?: RunNowOptions<JobDataOf<J>>]
    : [options: RunNowOptions<JobDataOf<J>> & { data: JobDataOf<J> }];

/** A recurring job as registered. */
export interface RecurringJobInfo {
  /** The schedule's id: the job id for a `@PipelineJob` schedule, the given id for a runtime one. */
  scheduleId: string;
  /** `decorator`: declared by `@PipelineJob`; `runtime`: made by `upsertSchedule`. */
  source: 'decorator' | 'runtime';
  jobId: string;
  /** The cron pattern, or absent for an interval schedule. */
  cron?: string;
  /** The interval, or absent for a cron schedule. */
  everyMs?: number;
  timezone: string;
  startDate?: Date;
  endDate?: Date;
  /** Tenant the ticks run as (null: host level). */
  tenantId: string | null;
  /** The ticks' payload. */
  data?: unknown;
  queue: string;
  tenancy: 'host' | 'per-tenant';
  enabled: boolean;
  /** Paused with `BackgroundJobs.pause`: no scheduled runs until `resume`. */
  paused: boolean;
  /** Absent while paused or disabled. */
  nextRunAt?: Date;
  /** The most recent run of this job (scheduled, triggered or enqueued), unless retention removed it. */
  lastRun?: { executionId: string; state: JobState; startedAt?: Date; finishedAt?: Date };
}
