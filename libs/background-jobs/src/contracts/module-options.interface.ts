import { SharedLimitOptions } from './flow-control.interface';
import { HistoryOptions, RetryOptions } from './pipeline-job-options.interface';
import { FailureKind } from './job-state.types';
import { JobInterceptor } from './job-interceptor.interface';
import { BullmqConnection } from './redis-connection.interface';

/** Runs on BullMQ over Redis: durable, shared by every instance. */
export interface BullmqTransportOptions {
  type: 'bullmq';
  /**
   * One Redis server (`url`, or host/port/…), a Sentinel-managed master (`sentinels` + `name`), a Redis Cluster
   * (`cluster: { nodes }`), or an ioredis `Redis`/`Cluster` the host already holds. Unknown or contradictory keys
   * stop the boot. See docs/operations.md#production-redis.
   */
  connection: BullmqConnection;
  /**
   * BullMQ key prefix.
   * @default 'bull'
   */
  prefix?: string;
}

/** Runs in this process only: no Redis, nothing survives a restart. */
export interface LocalTransportOptions {
  type: 'local';
}

export type TransportOptions = BullmqTransportOptions | LocalTransportOptions;

/** Worker settings; `false` makes this instance a producer only. */
export interface WorkerOptions {
  /**
   * Runs executed at once per queue on this instance.
   * @default 10
   */
  concurrency?: number;
  /**
   * On shutdown, how long running jobs may finish before they are aborted and handed back.
   * @default 25000
   */
  shutdownGraceMs?: number;
  /**
   * BullMQ transport: how long a worker's hold on a running job lasts without renewal (renewed every half of
   * it). When an instance dies mid-run (`kill -9`, OOM, lost node), its jobs are handed back to the queue
   * within `lockDurationMs + stalledIntervalMs` (when `stalledIntervalMs` ≤ `lockDurationMs`, as by default) and
   * picked up by another instance. Ignored by the embedded transport.
   * @default 30000
   */
  lockDurationMs?: number;
  /**
   * BullMQ transport: the longest time between two checks for runs whose instance died (stalled jobs), which
   * hand them back to the queue. Each worker runs BullMQ's stalled check every half of it, because BullMQ
   * skips a check that lands while the previous one's guard key still lives. Ignored by the embedded transport.
   * @default 30000
   */
  stalledIntervalMs?: number;
  /**
   * BullMQ transport: how many times a run may be recovered from a dead instance before it ends `failed`
   * (a job that crashes its process every time does not loop forever). Ignored by the embedded transport.
   * @default 1
   */
  maxStalledCount?: number;
}

/** Decides a failure's kind before the built-in rules; return `undefined` to defer to them. */
export type FailureClassifier = (error: unknown) => FailureKind | undefined;

/** Module-wide defaults, overridable per job. */
export interface JobDefaults {
  /** @default { attempts: 3, backoffMs: 1000 } */
  retry?: RetryOptions;
  /** @default 0 (no timeout) */
  timeoutMs?: number;
  /** @default { completed: { count: 1000, maxAgeSeconds: 86400 }, failed: { count: 5000, maxAgeSeconds: 604800 } } */
  history?: HistoryOptions;
}

/**
 * A Nest guard instance: anything with `canActivate(context)` (Nest's `CanActivate`, written out here because
 * contracts import no package).
 */
export interface OperationsGuard {
  canActivate(context: any): boolean | Promise<boolean> | { subscribe(...args: any[]): unknown };
}

/** Operations surface: mounted only when a guard is given. */
export interface OperationsOptions {
  /** A Nest guard deciding who may use the surface: a class (resolved through Nest DI, `Type<CanActivate>`) or an instance. */
  guard: (abstract new (...args: any[]) => OperationsGuard) | OperationsGuard;
  /** @default 'jobs' */
  path?: string;
  /**
   * Also serve the dashboard (overview, schedules, runs, run detail) at `<path>/ui`, behind the same guard.
   * @default false
   */
  ui?: boolean;
}

/** Options of `BackgroundJobsModule.forRoot`. */
export interface BackgroundJobsModuleOptions {
  /** Where runs are queued: BullMQ (`{ type: 'bullmq', connection }`) or in-process (`{ type: 'local' }`). */
  transport: TransportOptions;
  /**
   * Worker settings, or `false` for a producer-only instance that enqueues but runs nothing.
   * @default { concurrency: 10, shutdownGraceMs: 25000 }
   */
  worker?: WorkerOptions | false;
  /**
   * Consulted before the built-in failure rules.
   * @default undefined (built-in rules only)
   */
  failureClassifier?: FailureClassifier;
  /**
   * Kind given to errors no rule recognises.
   * @default 'transient'
   */
  unknownErrorKind?: 'transient' | 'permanent';
  /**
   * Host interceptors, run innermost (just around `execute`), in order: instances, or classes resolved through
   * Nest DI at boot (the provider when a module provides the class, else a new instance with its dependencies
   * injected), e.g. `interceptors: [AuditInterceptor]`.
   * @default []
   */
  interceptors?: (JobInterceptor | (new (...args: any[]) => JobInterceptor))[];
  /**
   * Module-wide defaults for retry, timeout and history; each job may override them.
   * @default { retry: { attempts: 3, backoffMs: 1000 }, timeoutMs: 0, history: see JobDefaults.history }
   */
  defaults?: JobDefaults;
  /**
   * Largest payload `enqueue` accepts, in bytes of its JSON; a larger one is rejected and nothing is enqueued.
   * @default 524288 (512 KB)
   */
  maxPayloadBytes?: number;
  /**
   * A payload JSON would carry but change (a `Date` arrives as a string, a `Map` or `Set` as `{}`, `undefined` in
   * an array as `null`, a class instance as a plain object without its methods): `'reject'` refuses it at
   * `enqueue` with an error naming the path; `'warn'` logs that error and enqueues it as JSON makes it.
   * @default 'reject'
   */
  payloadChanges?: 'reject' | 'warn';
  /**
   * Bounds on input that would otherwise grow Redis or logs without limit; a value past one is refused with an error
   * naming it (at boot for a `@PipelineJob`, at call time for the API).
   * @default { minEveryMs: 1000, maxIdLength: 200, maxDedupeKeyLength: 200, maxDelayMs: 31622400000, maxLogLineLength: 10000, maxLogLines: 1000 }
   */
  bounds?: InputBounds;
  /**
   * Where the current tenant lives in the nestjs-cls store.
   * @default { clsKey: 'tenantId' }
   */
  tenant?: {
    /**
     * CLS key holding the tenant id; set it from your own middleware and `enqueue` picks it up.
     * @default 'tenantId'
     */
    clsKey?: string;
  };
  /**
   * The operations surface (REST, dashboard); closed unless a guard is given.
   * @default undefined (not mounted)
   */
  operations?: OperationsOptions;
  /**
   * Shared limits by name (a name matches the job id pattern); jobs count against them with
   * `@PipelineJob({ limits: [name] })`. See docs/flow-control.md.
   * @default {}
   */
  limits?: Record<string, SharedLimitOptions>;
}

/** Options of `BackgroundJobsModule.forTest`: those of `forRoot` but `transport` (always the embedded one, on a test clock). */
export interface BackgroundJobsTestOptions extends Omit<BackgroundJobsModuleOptions, 'transport'> {
  /**
   * Where the test clock starts; it moves only with `BackgroundJobsTesting.advanceBy` / `advanceTo`.
   * @default the real time at boot
   */
  now?: Date;
}

/** The value to give `BACKGROUND_JOBS_TEST_CLOCK` to run a `forRoot` registration on the test clock. */
export interface BackgroundJobsTestClock {
  /**
   * Where the test clock starts; it moves only with `BackgroundJobsTesting.advanceBy` / `advanceTo`.
   * @default the real time at boot
   */
  now?: Date;
}

/** `forRoot({ bounds })`: limits on input, each with its default. */
export interface InputBounds {
  /**
   * Shortest `everyMs` of a schedule (decorator or runtime), in ms: a 1 ms interval floods Redis with ticks.
   * @default 1000
   */
  minEveryMs?: number;
  /**
   * Longest runtime schedule id, in characters.
   * @default 200
   */
  maxIdLength?: number;
  /**
   * Longest `dedupeKey` of `enqueue`, in characters.
   * @default 200
   */
  maxDedupeKeyLength?: number;
  /**
   * Furthest `delayMs` (or `runAt` from now) of `enqueue`, in ms: a run further out would never run in practice.
   * @default 31622400000 (366 days)
   */
  maxDelayMs?: number;
  /**
   * Longest `ctx.log` line, in characters; a longer line is kept cut to this length, with a note of how much was cut.
   * @default 10000
   */
  maxLogLineLength?: number;
  /**
   * Most `ctx.log` lines one attempt of a run keeps; past it one note says so and further lines are dropped.
   * @default 1000
   */
  maxLogLines?: number;
}
