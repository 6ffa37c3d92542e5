import { BatchSummary, INVALID_PROGRESS, JobContext, JobDependency, JobLeaseInfo } from '../../contracts';
import { boundedLog, ResolvedBounds } from '../bounds';
import { DEFAULTS } from '../defaults';
import { JobDefinition } from '../job-definition';
import { LazyAbortController } from '../lazy-abort-controller';
import { RunRequest } from '../run.types';
import { RunSteps } from './run-steps';

/** The `JobContext` of one run; stages fill `lease` before `execute` sees it. */
export class RunContext<T = unknown> implements JobContext<T> {
  readonly jobId: string;
  readonly executionId: string;
  readonly tenantId: string | null;
  readonly attempt: number;
  data: T;
  readonly scheduledAt?: Date;
  lease?: JobLeaseInfo;
  readonly batch?: BatchSummary;
  /** A continuation's dependencies; the dependencies stage fills it. */
  dependencies?: ReadonlyArray<JobDependency>;
  /** The run's abort (the transport's): `signal` is its signal, made when first read. */
  readonly controller: LazyAbortController;
  private readonly write: (message: string) => Promise<void>;

  constructor(
    definition: JobDefinition,
    private readonly request: RunRequest,
    /** `ctx.step` of this attempt; the runner makes it (it knows the payload limit and the events). */
    private readonly steps: RunSteps,
    bounds: Pick<ResolvedBounds, 'maxLogLineLength' | 'maxLogLines'> = DEFAULTS.bounds,
  ) {
    this.write = boundedLog((line) => request.log(line), bounds);
    this.controller = request.controller;
    this.jobId = definition.id;
    this.executionId = request.executionId;
    this.tenantId = request.tenantId;
    this.attempt = request.attempt;
    this.data = request.data as T;
    this.scheduledAt = request.scheduledAt;
    if (request.batch) this.batch = request.batch;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  reportProgress(percent: number, message?: string): Promise<void> {
    if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
      return Promise.reject(new RangeError(INVALID_PROGRESS(this.jobId, percent)));
    }
    return this.request.reportProgress(percent, message);
  }

  log(message: string): Promise<void> {
    return this.write(String(message));
  }

  step<R>(name: string, fn: () => R | Promise<R>): Promise<R> {
    return this.steps.step(name, fn);
  }

  sleep(ms: number): Promise<void> {
    return this.steps.sleep('sleep', ms);
  }

  sleepUntil(date: Date): Promise<void> {
    return this.steps.sleep('sleepUntil', date);
  }
}
