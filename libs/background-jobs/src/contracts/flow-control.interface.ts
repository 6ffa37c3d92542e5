/**
 * What a limit counts by: `'job'` (one key for the whole job or shared limit), `'tenant'` (the run's tenant; host-level
 * runs are one key), or a function of the run's payload and tenant returning the key (e.g. `({ data }) => data.apiKey`).
 */
export type LimitKey<T = any> = 'job' | 'tenant' | ((run: { data: T; tenantId: string | null }) => string);

/** Never more than `max` starts per key in any sliding window of `durationMs`, across all instances, on Redis time. */
export interface RateLimitOptions<T = any> {
  /** Starts allowed per window and key; an integer ≥ 1. */
  max: number;
  /** The window, in ms; an integer ≥ 1. */
  durationMs: number;
  /**
   * What the limit counts by.
   * @default 'job'
   */
  key?: LimitKey<T>;
}

/** At most `max` running runs per key across all instances (`{ max: 1 }` is a singleton). */
export interface ConcurrencyOptions<T = any> {
  /** Running runs allowed per key; an integer ≥ 1. */
  max: number;
  /**
   * What the limit counts by.
   * @default 'job'
   */
  key?: LimitKey<T>;
}

/** A limit several jobs count against (`forRoot({ limits: { name: … } })`, `@PipelineJob({ limits: [name] })`). */
export interface SharedLimitOptions {
  /**
   * Starts per key and window, counted over every job naming this limit.
   * @default undefined (no rate limit)
   */
  rateLimit?: RateLimitOptions;
  /**
   * Running runs per key, counted over every job naming this limit.
   * @default undefined (no concurrency limit)
   */
  concurrency?: ConcurrencyOptions;
}

/**
 * A per-key override of `jobs.setLimit`: the parts given replace the configured ones for that key; each call replaces
 * the key's whole override (a part left out is the configured one again).
 */
export interface LimitOverride {
  /**
   * The key's own rate limit.
   * @default undefined (the configured one)
   */
  rateLimit?: { max: number; durationMs: number };
  /**
   * The key's own concurrency limit.
   * @default undefined (the configured one)
   */
  concurrency?: { max: number };
  /**
   * A fair job only (`fairness`), the key being a tenant id ('' for host-level runs): the tenant's shares of the
   * round robin of the job's queue, an integer from 1 to 1,000. A tenant of weight n gets n runs per round where
   * the others get one, for runs enqueued from then on.
   * @default undefined (1: one share)
   */
  weight?: number;
}

/** Why a run that may not start yet waits. */
export type WaitingReason = 'rate-limit' | 'concurrency' | 'fairness' | 'delay' | 'dependencies' | 'sleep';

/** Why a pending or delayed run waits, and until when when that is known (`JobExecution.waiting`). */
export interface JobWaiting {
  reason: WaitingReason;
  /** The limit that holds it back: a shared limit's name, or the job id for the job's own `rateLimit`/`concurrency`. */
  limit?: string;
  /** The key of that limit the run counts against (absent for the key `'job'`). */
  key?: string;
  /** When it may start (rate limits); absent when it is woken by an event (a slot freeing). */
  until?: Date;
}

/** How long a dedupe key answers a second enqueue with the run it already made (`EnqueueOptions.dedupe`). */
export type DedupeMode = 'until-started' | 'until-finished' | 'debounce' | 'throttle';

/** `EnqueueOptions.dedupe`: one run per key of the job while the mode's window lasts. */
export interface DedupeOptions {
  /** The key, per job: the same key on another job is another key. */
  key: string;
  /**
   * - `until-started`: another enqueue returns the first run's id until a worker takes it (`dedupeKey`).
   * - `until-finished`: until it completes, fails or is cancelled.
   * - `debounce`: the run waits `ttlMs`; another enqueue within it replaces the payload and restarts the wait.
   * - `throttle`: at most one run per `ttlMs`; later enqueues within the window return its id.
   */
  mode: DedupeMode;
  /**
   * The window of `debounce` and `throttle`, in ms (required for those two, not taken by the others).
   * @default undefined (no window: until-started and until-finished end with their run)
   */
  ttlMs?: number;
}
