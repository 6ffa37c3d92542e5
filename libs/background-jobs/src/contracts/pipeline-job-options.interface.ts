import { ConcurrencyOptions, RateLimitOptions } from './flow-control.interface';
import { JobTenancy } from './job-state.types';

/** Retry policy for transient failures. Backoff is exponential: `backoffMs`, 2×, 4×, … */
export interface RetryOptions {
  /**
   * Total attempts, the first run included. `1` means no retry.
   * @default 3
   */
  attempts?: number;
  /**
   * Delay before the first retry, doubled for each further one.
   * @default 1000
   */
  backoffMs?: number;
}

/** How many finished runs are kept for inspection (mapped onto BullMQ's removeOnComplete / removeOnFail). */
export interface HistoryOptions {
  /**
   * Completed runs kept, at most this many and at most `maxAgeSeconds` old.
   * @default { count: 1000, maxAgeSeconds: 86400 }
   */
  completed?: { count?: number; maxAgeSeconds?: number };
  /**
   * Failed runs kept, at most this many and at most `maxAgeSeconds` old.
   * @default { count: 5000, maxAgeSeconds: 604800 }
   */
  failed?: { count?: number; maxAgeSeconds?: number };
}

/** A job-level lease: while one run holds it, another run of the same job ends `skipped`. */
export interface JobLockOptions {
  /** Lease time-to-live; renewed every ttl/3 while the run lives. */
  ttlMs: number;
  /**
   * Lock key.
   * @default the job id (job id + tenant for per-tenant runs)
   */
  key?: string;
}

/**
 * Per-tenant fairness of a job's runs (`@PipelineJob({ fairness })`). Runs of different tenants are taken round robin
 * within the job's queue, whatever order they were enqueued in; host-level runs (`tenantId: null`) count as one tenant.
 */
export interface FairnessOptions {
  /** What runs are grouped by: the run's tenant. */
  by: 'tenant';
  /**
   * At most this many runs of one tenant of this job at once, across all instances. A run that finds its tenant's
   * slots taken waits (no attempt used); a crashed instance's slots come back within `lockDurationMs + stalledIntervalMs`.
   * @default undefined (no cap: round robin only)
   */
  concurrencyPerTenant?: number;
}

/** Options of `@PipelineJob()`. Validated at boot: a bad value stops the app with a message naming the job. */
export interface PipelineJobOptions {
  /** Stable, unique id matching `/^[a-z0-9][a-z0-9:._-]*$/`. For a recurring job it is also the BullMQ job scheduler id. */
  id: string;
  /**
   * Cron pattern: 5 fields, or 6 with seconds first. Without it the job runs only when enqueued or triggered.
   * @default undefined (not recurring)
   */
  cron?: string;
  /**
   * Run every this many milliseconds instead of on a cron pattern (BullMQ's `every`); a positive integer.
   * @default undefined (not recurring)
   */
  everyMs?: number;
  /**
   * No tick before this date (the schedule waits for it).
   * @default undefined (from now)
   */
  startDate?: Date;
  /**
   * No tick after this date (the schedule ends).
   * @default undefined (never ends)
   */
  endDate?: Date;
  /**
   * The payload of every scheduled tick (`ctx.data`).
   * @default undefined
   */
  data?: unknown;
  /**
   * IANA time zone the cron pattern is read in.
   * @default 'UTC'
   */
  timezone?: string;
  /**
   * Plain BullMQ queue the runs go through (under the transport's prefix).
   * @default 'background-jobs'
   */
  queue?: string;
  /**
   * `host`: one run with `tenantId: null`. `per-tenant`: one child run per tenant of `TENANT_DIRECTORY`.
   * @default 'host'
   */
  tenancy?: JobTenancy;
  /**
   * Optional job-level lease; a run that finds it held ends `skipped`.
   * @default undefined (no lock)
   */
  lock?: JobLockOptions;
  /**
   * Retry policy for transient failures.
   * @default module `defaults.retry`
   */
  retry?: RetryOptions;
  /**
   * Abort the run (`ctx.signal`, failure kind `timeout`) after this long. `0` or unset: no timeout.
   * @default module `defaults.timeoutMs`
   */
  timeoutMs?: number;
  /**
   * Finished-run retention for this job.
   * @default module `defaults.history`
   */
  history?: HistoryOptions;
  /**
   * What a recurring job does about ticks missed while no instance was running: `run-once` (one catch-up run at
   * start however many ticks were missed, as Hangfire's Relaxed mode and Quartz's smart policy) or `skip` (a tick
   * that starts more than `misfireThresholdMs` late while a later tick was already due, and that fell due while no
   * worker ran, ends `skipped`; one late only because workers were busy runs). Ticks go ahead of enqueued runs on a
   * shared queue, so a busy queue delays a tick by at most the runs already started.
   * The embedded transport keeps nothing across restarts, so it has no ticks missed while down.
   * @default 'run-once'
   */
  misfire?: 'skip' | 'run-once';
  /**
   * How late a tick may start before it counts as missed (`misfire: 'skip'`); first attempts only, retries are
   * never skipped. Quartz's default.
   * @default 60000
   */
  misfireThresholdMs?: number;
  /**
   * Checks the payload on the worker before the run: `parse(data)` (a zod-like schema) or a function that
   * returns the data or throws. A payload it rejects fails the run permanently (no retry).
   * @default undefined (no check)
   */
  schema?: { parse(data: unknown): unknown } | ((data: unknown) => unknown);
  /**
   * Per-tenant fairness: `'tenant'` takes runs of different tenants round robin within the job's queue (a tenant's
   * flood no longer delays the others); `{ by: 'tenant', concurrencyPerTenant: n }` also caps each tenant's running
   * runs at `n` across all instances. Per-tenant fan-out children use it too. See docs/fairness.md.
   * @default undefined (first in, first out)
   */
  fairness?: 'tenant' | FairnessOptions;
  /**
   * Never more than `max` starts per key in any sliding window of `durationMs`, across all instances, on Redis time.
   * A run over the limit waits parked (no attempt used, no worker slot held) until the window opens. See
   * docs/flow-control.md.
   * @default undefined (no rate limit)
   */
  rateLimit?: RateLimitOptions;
  /**
   * At most `max` running runs per key across all instances (`{ max: 1 }`: a singleton). A run over the limit waits
   * parked until a slot frees; a crashed instance's slots free within the worker's `lockDurationMs`.
   * @default undefined (no concurrency limit)
   */
  concurrency?: ConcurrencyOptions;
  /**
   * Shared limits (`forRoot({ limits })`) this job also counts against: a run starts only when every one admits it.
   * @default []
   */
  limits?: string[];
  /**
   * Legacy scheduler ids removed from this job's queue at startup (exclusive cutover). Only while the job is
   * enabled: `enabled: false` leaves them in place, so rolling back is a flag.
   * @default []
   */
  replaces?: string[];
  /**
   * `false` keeps the class registered (enqueue still refused) but removes its schedule. Useful as a flag.
   * @default true
   */
  enabled?: boolean;
}

/** Options of `BackgroundJobs.upsertSchedule`: one runtime schedule of a job, created or replaced in place. */
export interface ScheduleOptions {
  /** Schedule id, `/^[a-z0-9][a-z0-9:._-]*$/`, not a `@PipelineJob` id. It is also the BullMQ job scheduler id. */
  id: string;
  /**
   * Cron pattern (5 fields, or 6 with seconds first); exactly one of `cron` and `everyMs`.
   * @default undefined
   */
  cron?: string;
  /**
   * Interval in milliseconds, a positive integer; exactly one of `cron` and `everyMs`.
   * @default undefined
   */
  everyMs?: number;
  /**
   * IANA time zone the cron pattern is read in.
   * @default 'UTC'
   */
  timezone?: string;
  /**
   * The payload of every tick (`ctx.data`).
   * @default undefined
   */
  data?: unknown;
  /**
   * Tenant every tick runs as; a per-tenant job with `null` fans out to every tenant.
   * @default null (host level)
   */
  tenantId?: string | null;
  /**
   * No tick before this date.
   * @default undefined (from now)
   */
  startDate?: Date;
  /**
   * No tick after this date.
   * @default undefined (never ends)
   */
  endDate?: Date;
  /**
   * Missed-tick policy, as `@PipelineJob`'s `misfire`.
   * @default the job's `misfire`
   */
  misfire?: 'skip' | 'run-once';
  /**
   * How late a tick may start before it counts as missed, as `@PipelineJob`'s.
   * @default the job's `misfireThresholdMs`
   */
  misfireThresholdMs?: number;
}
