import { FailureKind } from './job-state.types';

/** Who and which attempt: on every job event. */
export interface JobEventBase {
  /** The definition id (`@PipelineJob({ id })`). */
  jobId: string;
  executionId: string;
  /** `null` for host-level runs. */
  tenantId: string | null;
  /** 1-based attempt number. */
  attempt: number;
  /** Attempts the job may take in all (`retry.attempts`). */
  attempts: number;
}

/** A failed attempt, classified; `error` is what the job threw (with its stack), when it threw. */
export interface JobEventFailure {
  kind: FailureKind;
  message: string;
  error?: unknown;
  /** True when no rule recognised the error: its kind is the module's `unknownErrorKind`. */
  unrecognised: boolean;
}

/** Every job event by name: what `@OnJobEvent(name)` handlers receive. */
export interface JobEventMap {
  /** An attempt starts (after the tenant context is set, before any other stage). */
  started: JobEventBase & { name: 'started' };
  /** An attempt returned; `result` is what `execute` returned. */
  completed: JobEventBase & { name: 'completed'; durationMs: number; result: unknown };
  /** An attempt failed and no attempt follows (permanent, timeout, lock-lost, or transient with none left). */
  failed: JobEventBase & { name: 'failed'; durationMs: number; failure: JobEventFailure };
  /** A transient failure; the next attempt starts in `retryDelayMs`. */
  retrying: JobEventBase & { name: 'retrying'; durationMs: number; failure: JobEventFailure; retryDelayMs: number };
  /** The run was cancelled (`BackgroundJobs.cancel`); never retried. */
  cancelled: JobEventBase & { name: 'cancelled'; durationMs: number; failure: JobEventFailure };
  /**
   * The run did not execute: `kind` says which rule skipped it (its lock was held, a tick missed while no instance ran,
   * a paused job's tick), `reason` in words.
   */
  /**
   * A durable step (`ctx.step`) ended: `completed` (its result kept), `failed` (it threw; it runs again on a retry) or
   * `reused` (kept by an earlier attempt: `fn` was not called). Only to handlers that name it: `@OnJobEvent('step')`.
   */
  step: JobEventBase & { name: 'step'; step: string; state: 'completed' | 'failed' | 'reused'; durationMs: number };
  skipped: JobEventBase & {
    name: 'skipped';
    durationMs: number;
    kind: 'lock-busy' | 'misfire' | 'paused';
    reason: string;
  };
}

/** `started | completed | failed | skipped | cancelled | retrying | step`. */
export type JobEventName = keyof JobEventMap;

/** One job event; `JobEvent<'failed'>` is a failure's. */
export type JobEvent<N extends JobEventName = JobEventName> = JobEventMap[N];
