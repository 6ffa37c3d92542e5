import { JobState } from './job-state.types';
/** One durable step of a run (`ctx.step`), as the run's record shows it. */
export interface JobStep {
  name: string;
  /** `completed`: its result is kept and handed back on a retry or resume; `failed`: it threw and runs again then. */
  state: 'completed' | 'failed';
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
  /** What the step threw (`failed` steps). */
  error?: string;
}

/**
 * One run of a batch (`BackgroundJobs.batch`): a job class or id, its payload, tenant and delay. A per-tenant job
 * with no tenant (`tenantId: null`, or none given at host level) stands for one child per tenant of the
 * TENANT_DIRECTORY, listed at the call.
 */
export interface BatchRun {
  /** A `@PipelineJob` class or its id. */
  job: (abstract new (...args: any[]) => unknown) | string;
  data?: unknown;
  /** @default the caller's current tenant */
  tenantId?: string | null;
  /** @default 0 */
  delayMs?: number;
}

/** A batch's callback: the job to enqueue once, and its payload. */
export interface BatchCallback {
  job: (abstract new (...args: any[]) => unknown) | string;
  data?: unknown;
}

/** Options of `BackgroundJobs.batch`. */
export interface BatchOptions {
  /**
   * Enqueued exactly once when every child has ended (completed, failed or cancelled), whatever their outcome.
   * @default none
   */
  onComplete?: BatchCallback;
  /**
   * Enqueued exactly once when every child has completed (none failed or cancelled).
   * @default none
   */
  onSuccess?: BatchCallback;
  /**
   * The longest the batch may run, from the `batch()` call. Children not ended by then are cancelled and counted
   * `cancelled`, the batch ends `failed`, and `onComplete` runs once with those final counts; a child that ends
   * later changes no count and calls back nothing. Kept in the queue as a delayed run (`<batchId>.timeout`), so it
   * holds across restarts. An integer from 1 to `bounds.maxDelayMs`.
   * @default none: the batch waits for every child
   */
  timeoutMs?: number;
}

/** A batch's counts and state (`BackgroundJobs.getBatch`, and `ctx.batch` in its callback's run). */
export interface BatchSummary {
  batchId: string;
  total: number;
  /** Children that completed (or were skipped: they ended without failing). */
  completed: number;
  failed: number;
  cancelled: number;
  pending: number;
  /** `running` until every child ended; then `succeeded` (none failed or cancelled) or `failed`. */
  state: 'running' | 'succeeded' | 'failed';
  /**
   * The same counts per tenant, by tenant id: present when at least one child runs for a tenant (a per-tenant job's
   * batch: one child per tenant of the TENANT_DIRECTORY). Children with no tenant are not in it.
   */
  tenants?: Record<string, BatchTenantCounts>;
}

/** One tenant's share of a batch (`BatchSummary.tenants`). */
export interface BatchTenantCounts {
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  pending: number;
}

/** One dependency of a continuation as `ctx.dependencies` shows it, once all have ended. */
export interface JobDependency {
  executionId: string;
  jobId: string;
  state: JobState;
  /** A completed dependency's result. */
  result?: unknown;
}
