import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import {
  DEFAULT_PREFIX_IN_PRODUCTION,
  INVALID_CRON,
  INVALID_JOB_ID,
  INVALID_JOB_OPTION,
  INVALID_TIMEZONE,
  JobDefinitionError,
  MISSING_EXECUTE,
  MISSING_TENANT_DIRECTORY,
  PipelineJobOptions,
  REQUEST_SCOPED_JOB,
  UNPROVIDED_JOB,
  UNRESOLVABLE_INTERCEPTOR,
  REQUEST_SCOPED_EVENT_HANDLER,
  UNKNOWN_JOB_EVENT,
  JobEvent,
  JobEventName,
} from './contracts';
import { BackgroundJob, JobInterceptor } from './contracts';
import {
  CronCalendar,
  DEFAULTS,
  FAIRNESS_OPTION_KEYS,
  JOB_OPTION_KEYS,
  JobDefinition,
  JobEvents,
  jobPolicyProblem,
  JobRegistry,
  OPTION_RULES,
  rejectUnknownKeys,
  resolveOption,
  ResolvedJobsOptions,
  SCHEDULE_ID,
  scheduleProblem,
  TenantDirectoryLocator,
  resolveJobLimits,
} from './core';
import { cronProblem, isKnownTimezone } from './cron-validation';
import { PipelineJobMetadataAccessor } from './pipeline-job-metadata.accessor';

/** The events of a run's life: what `@OnJobEvent()` without names receives. */
const RUN_EVENT_NAMES: JobEventName[] = ['started', 'completed', 'failed', 'skipped', 'cancelled', 'retrying'];
/** Every event a handler may name; the composition events (steps) only reach handlers that name them. */
const JOB_EVENT_NAMES: JobEventName[] = [...RUN_EVENT_NAMES, 'step'];
/**
 * Records every `@PipelineJob` provider in the registry at `onModuleInit`, validating each one:
 * a bad definition stops the app with one message naming the job id, the class and the value.
 */
@Injectable()
export class BackgroundJobsExplorer implements OnModuleInit {
  private readonly logger = new Logger('BackgroundJobs');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly accessor: PipelineJobMetadataAccessor,
    private readonly registry: JobRegistry,
    private readonly options: ResolvedJobsOptions,
    private readonly directories: TenantDirectoryLocator,
    private readonly calendar: CronCalendar,
    private readonly moduleRef: ModuleRef,
    private readonly scanner: MetadataScanner,
    private readonly events: JobEvents,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.resolveInterceptors();
    for (const wrapper of this.discovery.getProviders()) {
      // NOTE: an alias (useExisting) is the same instance as the provider it names, which is discovered itself.
      if (wrapper.isAlias) continue;
      // NOTE: a class provider is read from its class; a factory or value provider from its instance's class, as
      // @nestjs/bull does, so a job built by a factory is discovered, never skipped in silence.
      const target =
        wrapper.metatype && !wrapper.inject
          ? wrapper.metatype
          : (wrapper.instance as object | null | undefined)?.constructor;
      const options = this.accessor.getOptions(target);
      if (!options) continue;
      this.registry.register(this.define(wrapper, target as Function, options));
      this.accessor.recordProvided(target as Function);
    }
    this.subscribeEventHandlers();
    this.warnAboutSilentGaps();
  }

  /** Every `@OnJobEvent` method of every provider subscribes to its events. */
  private subscribeEventHandlers(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      const prototype = instance && typeof instance === 'object' ? Object.getPrototypeOf(instance) : undefined;
      if (!prototype) continue;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const names = this.accessor.getEventNames(prototype[methodName]);
        if (!names) continue;
        const className = instance!.constructor?.name || '(anonymous class)';
        const handler = `${className}.${methodName}`;
        if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
          throw new JobDefinitionError(REQUEST_SCOPED_EVENT_HANDLER(handler));
        }
        const unknownName = names.find((name) => !JOB_EVENT_NAMES.includes(name));
        if (unknownName !== undefined)
          throw new JobDefinitionError(UNKNOWN_JOB_EVENT(handler, unknownName, JOB_EVENT_NAMES));
        const method = (instance![methodName] as (event: JobEvent) => unknown).bind(instance);
        this.events.on(names.length > 0 ? names : RUN_EVENT_NAMES, method, `@OnJobEvent handler ${handler}`);
      }
    }
  }

  /** Interceptor classes become instances: the host's provider when a module provides one, else one made by DI. */
  private async resolveInterceptors(): Promise<void> {
    const resolved: JobInterceptor[] = [];
    for (const ref of this.options.interceptorRefs) {
      if (typeof ref !== 'function') {
        resolved.push(ref);
        continue;
      }
      let instance: JobInterceptor;
      try {
        instance = this.moduleRef.get(ref, { strict: false });
      } catch {
        try {
          instance = await this.moduleRef.create(ref);
        } catch (error) {
          throw new JobDefinitionError(UNRESOLVABLE_INTERCEPTOR(ref.name, (error as Error).message));
        }
      }
      resolved.push(instance);
    }
    this.options.interceptors.splice(0, this.options.interceptors.length, ...resolved);
  }

  /** What would otherwise fail without a word: a job class no module provides, the default prefix in production. */
  private warnAboutSilentGaps(): void {
    // NOTE: a class another app of this process provides is not this app's omission (one app per process is the
    // production case; several apps per process are tests and benches).
    for (const jobClass of this.accessor.unprovidedClasses()) {
      this.logger.warn(UNPROVIDED_JOB(jobClass.name || '(anonymous class)', this.accessor.getOptions(jobClass)?.id));
    }
    const transport = this.options.transport;
    if (transport.type === 'bullmq' && transport.prefix === undefined && process.env.NODE_ENV === 'production') {
      this.logger.warn(DEFAULT_PREFIX_IN_PRODUCTION(this.registry.queues()));
    }
  }

  private define(wrapper: InstanceWrapper, jobClass: Function, options: PipelineJobOptions): JobDefinition {
    const className = jobClass.name || '(anonymous class)';
    if (
      typeof options !== 'object' ||
      options === null ||
      typeof options.id !== 'string' ||
      !SCHEDULE_ID.test(options.id)
    ) {
      throw new JobDefinitionError(INVALID_JOB_ID(options?.id, className));
    }
    const { id } = options;
    const bad = (option: string, value: unknown, expected: string) =>
      new JobDefinitionError(INVALID_JOB_OPTION(id, className, option, value, expected));
    rejectUnknownKeys(options, JOB_OPTION_KEYS, (key, value, known) =>
      bad(`option "${key}"`, value, `one of ${known.join(', ')}`),
    );
    if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
      throw new JobDefinitionError(REQUEST_SCOPED_JOB(id, className));
    }
    const instance = wrapper.instance as BackgroundJob | undefined;
    if (!instance || typeof instance.execute !== 'function') {
      throw new JobDefinitionError(MISSING_EXECUTE(id, className));
    }
    const timezone = options.timezone ?? DEFAULTS.timezone;
    if (!isKnownTimezone(timezone)) throw new JobDefinitionError(INVALID_TIMEZONE(id, className, timezone));
    if (options.cron !== undefined) {
      const problem = cronProblem(options.cron, timezone);
      if (problem) throw new JobDefinitionError(INVALID_CRON(id, className, options.cron, problem));
    }
    const timing = scheduleProblem(options, this.calendar, false, this.options.bounds.minEveryMs);
    if (timing) throw bad(timing.option, timing.value, timing.expected);
    const queue = resolveOption(OPTION_RULES.queue, 'queue', options.queue, DEFAULTS.queue, bad);
    const tenancy = resolveOption(OPTION_RULES.tenancy, 'tenancy', options.tenancy, DEFAULTS.tenancy, bad);
    if (tenancy === 'per-tenant' && !this.directories.find()) {
      throw new JobDefinitionError(MISSING_TENANT_DIRECTORY(id, className));
    }
    const defaults = this.options.defaults;
    const retry = {
      attempts: options.retry?.attempts ?? defaults.retry.attempts,
      backoffMs: options.retry?.backoffMs ?? defaults.retry.backoffMs,
    };
    const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
    if (options.lock !== undefined) {
      const lock = options.lock as Partial<PipelineJobOptions['lock']> | null;
      if (typeof lock !== 'object' || lock === null || !OPTION_RULES['lock.ttlMs'].valid(lock.ttlMs)) {
        throw bad('lock.ttlMs', lock?.ttlMs, OPTION_RULES['lock.ttlMs'].expected);
      }
      if (lock.key !== undefined && !OPTION_RULES['lock.key'].valid(lock.key)) {
        throw bad('lock.key', lock.key, OPTION_RULES['lock.key'].expected);
      }
    }
    const history = {
      completed: { ...defaults.history.completed, ...options.history?.completed },
      failed: { ...defaults.history.failed, ...options.history?.failed },
    };
    const problem = jobPolicyProblem({ retry, timeoutMs, history });
    if (problem) throw bad(problem.option, problem.value, problem.expected);
    const replaces = options.replaces ?? [];
    if (
      !Array.isArray(replaces) ||
      replaces.some((legacy) => typeof legacy !== 'string' || legacy.length === 0 || legacy === id)
    ) {
      throw bad('replaces', replaces, "an array of legacy scheduler ids (non-empty strings, not the job's own id)");
    }
    const enabled = resolveOption(OPTION_RULES.enabled, 'enabled', options.enabled, DEFAULTS.enabled, bad);
    const misfire = resolveOption(OPTION_RULES.misfire, 'misfire', options.misfire, DEFAULTS.misfire, bad);
    const misfireThresholdMs = resolveOption(
      OPTION_RULES.misfireThresholdMs,
      'misfireThresholdMs',
      options.misfireThresholdMs,
      DEFAULTS.misfireThresholdMs,
      bad,
    );
    const schema = options.schema;
    if (
      schema !== undefined &&
      typeof schema !== 'function' &&
      typeof (schema as { parse?: unknown })?.parse !== 'function'
    ) {
      throw bad('schema', schema, 'an object with parse(data) (e.g. a zod schema) or a function (data) => data');
    }
    const fairness = resolveFairness(options.fairness, bad);
    const limits = resolveJobLimits(id, className, options, this.options.limits, fairness?.concurrencyPerTenant);
    return {
      id,
      className,
      jobClass,
      instance,
      cron: options.cron,
      everyMs: options.everyMs,
      startDate: options.startDate,
      endDate: options.endDate,
      data: options.data,
      timezone,
      queue,
      tenancy,
      lock: options.lock,
      retry,
      timeoutMs,
      history,
      replaces,
      enabled,
      misfire,
      misfireThresholdMs,
      schema,
      fairness,
      limits,
    };
  }
}

/** `@PipelineJob({ fairness })` resolved: undefined without fairness, else the per-tenant cap (if any). */
function resolveFairness(
  fairness: PipelineJobOptions['fairness'],
  bad: (option: string, value: unknown, expected: string) => Error,
): JobDefinition['fairness'] {
  if (fairness === undefined) return undefined;
  if (fairness === 'tenant') return {};
  const expected = "'tenant' or { by: 'tenant', concurrencyPerTenant?: n ≥ 1 }";
  if (typeof fairness !== 'object' || fairness === null || fairness.by !== 'tenant')
    throw bad('fairness', fairness, expected);
  rejectUnknownKeys(fairness, FAIRNESS_OPTION_KEYS, (key, value) => bad(`fairness.${key}`, value, expected));
  const cap = fairness.concurrencyPerTenant;
  if (cap === undefined) return {};
  const rule = OPTION_RULES['fairness.concurrencyPerTenant'];
  return { concurrencyPerTenant: resolveOption(rule, 'fairness.concurrencyPerTenant', cap, cap, bad) };
}
