import {
  BackgroundJobsModuleOptions,
  FailureClassifier,
  INVALID_MODULE_OPTION,
  JobDefinitionError,
  JobInterceptor,
  OperationsOptions,
  TransportOptions,
} from '../contracts';
import { resolveBounds, ResolvedBounds } from './bounds';
import { DEFAULTS } from './defaults';
import { OptionFailure, resolveOption } from './options/option-rule';
import { OPTION_RULES } from './options/option-rules';
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
  bounds: ResolvedBounds;
}

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
  const fail: OptionFailure = (option, value, expected) =>
    new JobDefinitionError(INVALID_MODULE_OPTION(option, value, expected));
  const workerOption = <K extends keyof ResolvedWorkerOptions>(key: K): number =>
    resolveOption(
      OPTION_RULES[`worker.${key}`],
      `worker.${key}`,
      raw.worker ? raw.worker[key] : undefined,
      DEFAULTS.worker[key],
      fail,
    );
  const worker: ResolvedJobsOptions['worker'] =
    raw.worker === false
      ? false
      : {
          concurrency: workerOption('concurrency'),
          shutdownGraceMs: workerOption('shutdownGraceMs'),
          lockDurationMs: workerOption('lockDurationMs'),
          stalledIntervalMs: workerOption('stalledIntervalMs'),
          maxStalledCount: workerOption('maxStalledCount'),
        };
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
  const unknownErrorKind = resolveOption(
    OPTION_RULES.unknownErrorKind,
    'unknownErrorKind',
    raw.unknownErrorKind,
    DEFAULTS.unknownErrorKind,
    fail,
  );
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
  const maxPayloadBytes = resolveOption(
    OPTION_RULES.maxPayloadBytes,
    'maxPayloadBytes',
    raw.maxPayloadBytes,
    DEFAULTS.maxPayloadBytes,
    fail,
  );
  const payloadChanges = resolveOption(
    OPTION_RULES.payloadChanges,
    'payloadChanges',
    raw.payloadChanges,
    DEFAULTS.payloadChanges,
    fail,
  );
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
    bounds: resolveBounds(raw.bounds),
  });
}
