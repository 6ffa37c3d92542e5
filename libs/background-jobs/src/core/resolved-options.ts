import {
  BackgroundJobsModuleOptions,
  FailureClassifier,
  INVALID_MODULE_OPTION,
  JobDefinitionError,
  JobInterceptor,
  OperationsOptions,
  TransportOptions,
} from '../contracts';
import { DEFAULTS, intAtLeast } from './defaults';
import { jobPolicyProblem } from './job-policy';
import { resolveSharedLimits } from './admission/flow-control-options';
import { LimitSpec } from './admission/limit-spec';

/** Worker settings with every default applied. */
export interface ResolvedWorkerOptions {
  concurrency: number;
  shutdownGraceMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
}

/** Module options with every default applied; built once by `resolveOptions`. */
export class ResolvedJobsOptions {
  transport: TransportOptions;
  worker: ResolvedWorkerOptions | false;
  failureClassifier?: FailureClassifier;
  unknownErrorKind: 'transient' | 'permanent';
  /** `interceptors` as given: instances and classes. */
  interceptorRefs: (JobInterceptor | (new (...args: any[]) => JobInterceptor))[];
  /**
   * The interceptors as instances, in order; empty until the explorer resolves `interceptorRefs` at module init.
   * NOTE: filled in place, because the pipeline's interceptor stage holds this array from its construction.
   */
  interceptors: JobInterceptor[];
  tenantClsKey: string;
  maxPayloadBytes: number;
  payloadChanges: 'reject' | 'warn';
  defaults: {
    retry: { attempts: number; backoffMs: number };
    timeoutMs: number;
    history: { completed: { count: number; maxAgeSeconds: number }; failed: { count: number; maxAgeSeconds: number } };
  };
  operations?: OperationsOptions;
  /** Shared limits (`forRoot({ limits })`) by name, checked. */
  limits: Map<string, LimitSpec[]>;
}

const positiveInt = (value: unknown): value is number => intAtLeast(value, 1);
const nonNegativeInt = (value: unknown): value is number => intAtLeast(value, 0);

/** Applies defaults and validates module options; throws JobDefinitionError naming the bad option. */
export function resolveOptions(raw: BackgroundJobsModuleOptions): ResolvedJobsOptions {
  if (!raw || typeof raw !== 'object') {
    throw new JobDefinitionError(
      INVALID_MODULE_OPTION('(options)', raw, "an object such as { transport: { type: 'local' } }"),
    );
  }
  const transport = raw.transport;
  if (!transport || (transport.type !== 'bullmq' && transport.type !== 'local')) {
    throw new JobDefinitionError(
      INVALID_MODULE_OPTION('transport', transport, "{ type: 'bullmq', connection: { url } } or { type: 'local' }"),
    );
  }
  if (transport.type === 'bullmq') {
    if (!transport.connection || typeof transport.connection !== 'object') {
      throw new JobDefinitionError(
        INVALID_MODULE_OPTION('transport.connection', transport.connection, "{ url: 'redis://127.0.0.1:6379' }"),
      );
    }
    if (
      transport.prefix !== undefined &&
      (typeof transport.prefix !== 'string' || !transport.prefix || transport.prefix.includes(':'))
    ) {
      throw new JobDefinitionError(
        INVALID_MODULE_OPTION('transport.prefix', transport.prefix, "a non-empty string without ':'"),
      );
    }
  }
  let worker: ResolvedJobsOptions['worker'];
  if (raw.worker === false) worker = false;
  else {
    const concurrency = raw.worker?.concurrency ?? DEFAULTS.worker.concurrency;
    const shutdownGraceMs = raw.worker?.shutdownGraceMs ?? DEFAULTS.worker.shutdownGraceMs;
    if (!positiveInt(concurrency)) {
      throw new JobDefinitionError(INVALID_MODULE_OPTION('worker.concurrency', concurrency, 'a positive integer'));
    }
    if (!nonNegativeInt(shutdownGraceMs)) {
      throw new JobDefinitionError(INVALID_MODULE_OPTION('worker.shutdownGraceMs', shutdownGraceMs, 'an integer ≥ 0'));
    }
    const lockDurationMs = raw.worker?.lockDurationMs ?? DEFAULTS.worker.lockDurationMs;
    const stalledIntervalMs = raw.worker?.stalledIntervalMs ?? DEFAULTS.worker.stalledIntervalMs;
    const maxStalledCount = raw.worker?.maxStalledCount ?? DEFAULTS.worker.maxStalledCount;
    // NOTE: below ~200 ms the lock renewal (every lockDurationMs / 2) races ordinary Redis latency.
    if (!intAtLeast(lockDurationMs, 200)) {
      throw new JobDefinitionError(
        INVALID_MODULE_OPTION('worker.lockDurationMs', lockDurationMs, 'an integer ≥ 200 (ms)'),
      );
    }
    if (!intAtLeast(stalledIntervalMs, 100)) {
      throw new JobDefinitionError(
        INVALID_MODULE_OPTION('worker.stalledIntervalMs', stalledIntervalMs, 'an integer ≥ 100 (ms)'),
      );
    }
    if (!nonNegativeInt(maxStalledCount)) {
      throw new JobDefinitionError(INVALID_MODULE_OPTION('worker.maxStalledCount', maxStalledCount, 'an integer ≥ 0'));
    }
    worker = { concurrency, shutdownGraceMs, lockDurationMs, stalledIntervalMs, maxStalledCount };
  }
  const retry = {
    attempts: raw.defaults?.retry?.attempts ?? DEFAULTS.retry.attempts,
    backoffMs: raw.defaults?.retry?.backoffMs ?? DEFAULTS.retry.backoffMs,
  };
  const timeoutMs = raw.defaults?.timeoutMs ?? DEFAULTS.timeoutMs;
  const history = {
    completed: {
      count: raw.defaults?.history?.completed?.count ?? DEFAULTS.history.completed.count,
      maxAgeSeconds: raw.defaults?.history?.completed?.maxAgeSeconds ?? DEFAULTS.history.completed.maxAgeSeconds,
    },
    failed: {
      count: raw.defaults?.history?.failed?.count ?? DEFAULTS.history.failed.count,
      maxAgeSeconds: raw.defaults?.history?.failed?.maxAgeSeconds ?? DEFAULTS.history.failed.maxAgeSeconds,
    },
  };
  const problem = jobPolicyProblem({ retry, timeoutMs, history });
  if (problem)
    throw new JobDefinitionError(INVALID_MODULE_OPTION(`defaults.${problem.option}`, problem.value, problem.expected));
  const unknownErrorKind = raw.unknownErrorKind ?? 'transient';
  if (unknownErrorKind !== 'transient' && unknownErrorKind !== 'permanent') {
    throw new JobDefinitionError(
      INVALID_MODULE_OPTION('unknownErrorKind', unknownErrorKind, "'transient' or 'permanent'"),
    );
  }
  const interceptorRefs = raw.interceptors ?? [];
  if (!Array.isArray(interceptorRefs)) {
    throw new JobDefinitionError(
      INVALID_MODULE_OPTION('interceptors', interceptorRefs, 'an array of interceptor classes or instances'),
    );
  }
  interceptorRefs.forEach((interceptor, i) => {
    const isClass = typeof interceptor === 'function' && typeof interceptor.prototype?.intercept === 'function';
    if (!isClass && (!interceptor || typeof (interceptor as JobInterceptor).intercept !== 'function')) {
      throw new JobDefinitionError(
        INVALID_MODULE_OPTION(
          `interceptors[${i}]`,
          interceptor,
          'a class with intercept(ctx, next) (resolved through DI) or an instance of one',
        ),
      );
    }
  });
  const maxPayloadBytes = raw.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes;
  if (!positiveInt(maxPayloadBytes)) {
    throw new JobDefinitionError(
      INVALID_MODULE_OPTION('maxPayloadBytes', maxPayloadBytes, 'a positive integer (bytes)'),
    );
  }
  const payloadChanges = raw.payloadChanges ?? 'reject';
  if (payloadChanges !== 'reject' && payloadChanges !== 'warn') {
    throw new JobDefinitionError(INVALID_MODULE_OPTION('payloadChanges', payloadChanges, "'reject' or 'warn'"));
  }
  return Object.assign(new ResolvedJobsOptions(), {
    maxPayloadBytes,
    payloadChanges,
    transport,
    worker,
    failureClassifier: raw.failureClassifier,
    unknownErrorKind,
    interceptorRefs,
    interceptors: [],
    tenantClsKey: raw.tenant?.clsKey ?? DEFAULTS.tenantClsKey,
    defaults: { retry, timeoutMs, history },
    operations: raw.operations,
    limits: resolveSharedLimits(raw.limits),
  });
}
