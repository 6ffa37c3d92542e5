import { BatchSummary, JobDependency } from './composition.interface';

/** The lease a locked run holds; pass `fencingToken` to writes so a stale holder can be rejected. */
export interface JobLeaseInfo {
  key: string;
  fencingToken: number;
}

/** What a job's `execute` receives: identity, tenant, payload, cancellation and reporting. */
export interface JobContext<T = unknown> {
  /** The definition id (`@PipelineJob({ id })`). */
  readonly jobId: string;
  /** This run's id; pass it to `BackgroundJobs.getExecution` or `cancel`. */
  readonly executionId: string;
  /** Tenant the run belongs to; `null` for host-level runs. */
  readonly tenantId: string | null;
  /** 1-based attempt number. */
  readonly attempt: number;
  /** The payload given to `enqueue` (undefined for scheduled runs). */
  readonly data: T;
  /** Aborted on cancel, timeout, shutdown or lock loss; `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** The job-level lease, when the job has `lock` configured. */
  readonly lease?: JobLeaseInfo;
  /** When the schedule meant this run to start (recurring and delayed runs). */
  readonly scheduledAt?: Date;
  /** Record progress (0–100) on the run. */
  reportProgress(percent: number, message?: string): Promise<void>;
  /** Append a line to the run's log. */
  log(message: string): Promise<void>;
  /**
   * A durable step: runs `fn` once and keeps its result on the run, so a retry, or the run recovered after its
   * instance died, gets the kept result back without calling `fn` again. Code outside steps runs again on each
   * attempt. Each name once per run; the result travels as JSON and counts against `maxPayloadBytes` (a result
   * over it fails the run without retry). See docs/composition.md.
   */
  step<R>(name: string, fn: () => R | Promise<R>): Promise<R>;
  /**
   * Sleeps `ms` without holding a worker: the run leaves its slot (`getExecution` shows `waiting.reason: 'sleep'`)
   * and runs again from the top at the wake time; kept steps and passed sleeps return at once, code outside steps
   * runs again. Throws (the run fails without retry) when `ms` is not a finite number ≥ 0. See docs/composition.md.
   */
  sleep(ms: number): Promise<void>;
  /** `sleep` until `date` (a date already passed returns at once); throws when `date` is not a valid Date. */
  sleepUntil(date: Date): Promise<void>;
  /** In a batch's callback run (`onComplete`, `onSuccess`): the batch's final counts. */
  readonly batch?: BatchSummary;
  /** In a continuation (`enqueue(…, { after })`): each dependency's id, job, final state and result. */
  readonly dependencies?: ReadonlyArray<JobDependency>;
}

/** A unit of work. Keep `execute` thin: translate, delegate to the domain, return. */
export interface BackgroundJob<T = unknown, R = unknown> {
  execute(ctx: JobContext<T>): Promise<R> | R;
}

/** A class whose instances are jobs: what `@PipelineJob` decorates and `BackgroundJobs.enqueue` accepts. */
export type JobClass<T = any, R = any> = abstract new (...args: any[]) => BackgroundJob<T, R>;

/** The payload type of a job class (from its `execute(ctx: JobContext<T>)`); `unknown` for a job id. */
export type JobDataOf<J> = J extends abstract new (...args: any[]) => { execute(ctx: JobContext<infer T>): unknown }
  ? T
  : unknown;

/** The result type of a job class (what its `execute` resolves to); `unknown` for a job id. */
export type JobResultOf<J> = J extends abstract new (...args: any[]) => { execute(...args: any[]): infer R }
  ? Awaited<R>
  : unknown;
