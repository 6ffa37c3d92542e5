import { Injectable, Logger } from '@nestjs/common';
import {
  DISABLED_JOB,
  EnqueueOptions,
  INVALID_ENQUEUE_OPTION,
  JobClass,
  JobDataOf,
  JobResultOf,
  INVALID_PAYLOAD,
  PAYLOAD_CHANGED_BY_JSON,
  INVALID_EXECUTION_ID,
  INVALID_LOG_LIMIT,
  NOT_RECURRING,
  RETRY_NOT_FAILED,
  INVALID_TENANT_ID,
  InvalidJobInputError,
  JobExecution,
  RecurringJobInfo,
  RunNowOptions,
  INVALID_SCHEDULE,
  SCHEDULE_ID_TAKEN,
  SCHEDULE_OF_DISABLED_JOB,
  ScheduleOptions,
  TenantContext,
  UNKNOWN_JOB,
  LimitOverride,
} from '../contracts';
import { AdmissionStore } from './ports/admission.port';
import { setLimit } from './admission/set-limit';
import { Clock } from './clock';
import { DEFAULTS, intAtLeast } from './defaults';
import { isValidTenantId } from './pipeline/fan-out';
import { payloadProblem } from './payload';
import { ResolvedJobsOptions } from './resolved-options';
import { JobDefinition } from './job-definition';
import { JobRegistry } from './job-registry';
import { isRecurring } from './job-definition';
import { ExecutionReader } from './ports/execution-reader.port';
import { RunQueue } from './ports/run-queue.port';
import { ScheduleStore } from './ports/schedule-store.port';
import { ExecutionPage, ExecutionQuery } from './ports/transport.types';
import { CronCalendar } from './ports/cron-calendar.port';
import { decoratorSchedule, SCHEDULE_ID, scheduleProblem, ScheduleSpec } from './schedule';

const SCHEDULE_OPTION_KEYS = new Set([
  'id',
  'cron',
  'everyMs',
  'timezone',
  'data',
  'tenantId',
  'startDate',
  'endDate',
  'misfire',
  'misfireThresholdMs',
]);

/**
 * A job class decorated with `@PipelineJob` (payload and result types follow from its `execute`), or its id
 * (payload and result `unknown`).
 */
export type JobRef = JobClass | string;

/**
 * The facade a host injects to enqueue, run, inspect and cancel jobs.
 */
@Injectable()
export class BackgroundJobs {
  private readonly logger = new Logger('BackgroundJobs');

  constructor(
    private readonly registry: JobRegistry,
    private readonly runs: RunQueue,
    private readonly executions: ExecutionReader,
    private readonly schedules: ScheduleStore,
    private readonly tenant: TenantContext,
    private readonly options: ResolvedJobsOptions,
    private readonly calendar: CronCalendar,
    private readonly clock: Clock,
    private readonly admission: AdmissionStore,
  ) {}

  /**
   * Queues one run of `job` and resolves its execution id. The tenant defaults to the caller's current one.
   * Rejects with InvalidJobInputError, enqueueing nothing, on bad input.
   */
  async enqueue<J extends JobRef>(job: J, data?: JobDataOf<J>, options: EnqueueOptions = {}): Promise<string> {
    const definition = this.resolve(job);
    if (!definition.enabled) throw new InvalidJobInputError(DISABLED_JOB(definition.id));
    const tenantId = options.tenantId === undefined ? this.tenant.tenantId : options.tenantId;
    this.assertTenant(definition.id, tenantId);
    const delayMs = this.delayOf(definition.id, options);
    const { problem, change } = payloadProblem(data, this.options.maxPayloadBytes);
    if (problem) throw new InvalidJobInputError(INVALID_PAYLOAD(definition.id, problem));
    if (change) {
      const reject = this.options.payloadChanges === 'reject';
      const message = PAYLOAD_CHANGED_BY_JSON(definition.id, change.path, change.what, change.arrivesAs, reject);
      if (reject) throw new InvalidJobInputError(message);
      this.logger.warn(message);
    }
    if (options.dedupeKey !== undefined && (typeof options.dedupeKey !== 'string' || options.dedupeKey.length === 0)) {
      throw new InvalidJobInputError(
        INVALID_ENQUEUE_OPTION(definition.id, 'dedupeKey', options.dedupeKey, 'a non-empty string'),
      );
    }
    // NOTE: a per-tenant job enqueued at host level fans out to every tenant; with a tenant it runs for that one.
    const fanOut = definition.tenancy === 'per-tenant' && tenantId === null;
    return this.runs.enqueue(definition, { tenantId, data, delayMs, dedupeKey: options.dedupeKey, fanOut });
  }

  /** Enqueues a run and waits for its final state (completed, failed, cancelled or skipped). */
  async runNow<J extends JobRef>(
    job: J,
    options: RunNowOptions<JobDataOf<J>> = {},
  ): Promise<JobExecution<JobResultOf<J>>> {
    const waitTimeoutMs = options.waitTimeoutMs ?? DEFAULTS.runNowWaitTimeoutMs;
    const id = this.resolve(job).id;
    if (!Number.isInteger(waitTimeoutMs) || waitTimeoutMs <= 0) {
      throw new InvalidJobInputError(INVALID_ENQUEUE_OPTION(id, 'waitTimeoutMs', waitTimeoutMs, 'a positive integer'));
    }
    const { data, waitTimeoutMs: _ignored, ...enqueueOptions } = options;
    const executionId = await this.enqueue(job, data, enqueueOptions);
    return (await this.executions.waitForFinal(executionId, waitTimeoutMs)) as JobExecution<JobResultOf<J>>;
  }

  /**
   * Runs a schedule's tick now, as the schedule would (its tenant and payload; a per-tenant job at host level fans
   * out). Takes a job (its decorator schedule, or host level without payload when it has none) or a runtime
   * schedule id. Resolves the execution id.
   */
  async trigger(job: JobRef): Promise<string> {
    const runtime = typeof job === 'string' && !this.registry.get(job) ? await this.schedules.runtime(job) : undefined;
    if (runtime) return this.enqueue(runtime.jobId, runtime.data, { tenantId: runtime.tenantId });
    const definition = this.resolve(job);
    return this.enqueue(definition.id, isRecurring(definition) ? definition.data : undefined, { tenantId: null });
  }

  /**
   * Creates or replaces (in place, one scheduler per id) a runtime schedule of `job`: cron or everyMs, with its own
   * payload, tenant and window. Persisted where the transport keeps its runs (Redis on BullMQ), so it survives
   * restarts and other instances' boots. Rejects with InvalidJobInputError, scheduling nothing, on bad input.
   */
  async upsertSchedule<T = unknown>(job: JobRef, options: ScheduleOptions & { data?: T }): Promise<RecurringJobInfo> {
    const definition = this.resolve(job);
    const id = (options as { id?: unknown } | undefined)?.id;
    const bad = (option: string, value: unknown, expected: string) =>
      new InvalidJobInputError(INVALID_SCHEDULE(id, option, value, expected));
    if (typeof options !== 'object' || options === null)
      throw bad('options', options, 'an object { id, cron | everyMs, … }');
    for (const key of Object.keys(options)) {
      if (!SCHEDULE_OPTION_KEYS.has(key))
        throw bad(
          `option "${key}"`,
          (options as unknown as Record<string, unknown>)[key],
          `one of ${[...SCHEDULE_OPTION_KEYS].join(', ')}`,
        );
    }
    if (typeof id !== 'string' || !SCHEDULE_ID.test(id))
      throw bad('id', id, 'a string matching /^[a-z0-9][a-z0-9:._-]*$/');
    if (this.registry.get(id)) throw new InvalidJobInputError(SCHEDULE_ID_TAKEN(id, 'upsert'));
    if (!definition.enabled) throw new InvalidJobInputError(SCHEDULE_OF_DISABLED_JOB(id, definition.id));
    const problem = scheduleProblem(options, this.calendar, true);
    if (problem) throw bad(problem.option, problem.value, problem.expected);
    const tenantId = options.tenantId ?? null;
    if (tenantId !== null && !isValidTenantId(tenantId))
      throw bad('tenantId', tenantId, 'null or a non-empty tenant id');
    const payload = payloadProblem(options.data, this.options.maxPayloadBytes).problem;
    if (payload) throw bad('data', '(the payload)', payload);
    const schedule: ScheduleSpec = {
      id,
      jobId: definition.id,
      source: 'runtime',
      cron: options.cron,
      everyMs: options.everyMs,
      timezone: options.timezone ?? 'UTC',
      data: options.data,
      tenantId,
      startDate: options.startDate,
      endDate: options.endDate,
      misfire: options.misfire ?? definition.misfire,
      misfireThresholdMs: options.misfireThresholdMs ?? definition.misfireThresholdMs,
    };
    return this.schedules.upsert(definition, schedule);
  }

  /** Removes a runtime schedule on every instance (its next tick with it); false when there is none with this id. */
  async removeSchedule(scheduleId: string): Promise<boolean> {
    if (typeof scheduleId !== 'string' || !SCHEDULE_ID.test(scheduleId)) {
      throw new InvalidJobInputError(
        INVALID_SCHEDULE(scheduleId, 'id', scheduleId, 'a string matching /^[a-z0-9][a-z0-9:._-]*$/'),
      );
    }
    if (this.registry.get(scheduleId)) throw new InvalidJobInputError(SCHEDULE_ID_TAKEN(scheduleId, 'remove'));
    return this.schedules.remove(scheduleId);
  }

  /** Cancels a waiting, delayed or running run on any instance; false when unknown or already finished. */
  cancel(executionId: string): Promise<boolean> {
    this.assertExecutionId(executionId);
    return this.runs.cancel(executionId);
  }

  /**
   * The current snapshot of a run, or null when unknown (or removed by history retention). `R` types `result`
   * (an id carries no type: `getExecution<ReportResult>(id)`, or `JobResultOf<typeof MyJob>`).
   */
  getExecution<R = unknown>(executionId: string): Promise<JobExecution<R> | null> {
    this.assertExecutionId(executionId);
    return this.executions.getExecution(executionId) as Promise<JobExecution<R> | null>;
  }

  /** Every recurring job of this app with its schedule and next run. */
  async listRecurring(): Promise<RecurringJobInfo[]> {
    const [jobs, lastRuns] = await Promise.all([
      this.schedules.listRecurring(this.registry),
      this.schedules.lastRuns(),
    ]);
    return Promise.all(
      jobs.map(async (info) => {
        const lastId = lastRuns.get(info.scheduleId);
        const last = lastId ? await this.executions.getExecution(lastId) : null;
        return last
          ? {
              ...info,
              lastRun: {
                executionId: last.executionId,
                state: last.state,
                startedAt: last.startedAt,
                finishedAt: last.finishedAt,
              },
            }
          : info;
      }),
    );
  }

  /**
   * Stops a schedule (a recurring job's, or a runtime schedule by id) on every instance until `resume`; persisted
   * in Redis, so it survives restarts. Ticks already queued are skipped. `trigger` and `enqueue` still work.
   */
  /**
   * Overrides one key of a limit (a shared limit's name, or a job id for the job's own `rateLimit`/`concurrency`):
   * kept in the transport's store, so every instance applies it at its next admission; `null` restores the default.
   * Rejects with UnknownLimitError, storing nothing, for an unknown limit or a bad override.
   */
  setLimit(limitNameOrJobId: string, key: string, override: LimitOverride | null): Promise<void> {
    return setLimit(this.registry, this.options.limits, this.admission, limitNameOrJobId, key, override);
  }

  async pause(job: JobRef): Promise<void> {
    const { definition, schedule } = await this.resolveSchedule(job, 'pause');
    await this.schedules.pause(definition, schedule);
  }

  /** Re-creates a paused schedule; it runs again from its next tick. Resuming a running schedule changes nothing. */
  async resume(job: JobRef): Promise<void> {
    const { definition, schedule } = await this.resolveSchedule(job, 'resume');
    await this.schedules.resume(definition, schedule);
  }

  /**
   * Re-queues a failed run as a fresh attempt; false when the id is unknown (or removed by retention).
   * Rejects with InvalidJobInputError when the run is not failed.
   */
  async retry(executionId: string): Promise<boolean> {
    this.assertExecutionId(executionId);
    const result = await this.executions.retry(executionId);
    if (result.status === 'not-failed') throw new InvalidJobInputError(RETRY_NOT_FAILED(executionId, result.state));
    return result.status === 'retried';
  }

  /** Executions, newest first, filtered by state, job and tenant (`null`: host-level runs). */
  listExecutions(query: Partial<ExecutionQuery> = {}): Promise<ExecutionPage> {
    if (query.jobId !== undefined) this.resolve(query.jobId);
    return this.executions.listExecutions({
      ...query,
      offset: query.offset ?? 0,
      limit: query.limit ?? DEFAULTS.pageSize,
    });
  }

  /** The last `limit` lines a run logged, oldest first; null when the run is unknown. */
  getExecutionLogs(
    executionId: string,
    limit: number = DEFAULTS.logLines,
  ): Promise<{ lines: string[]; count: number } | null> {
    this.assertExecutionId(executionId);
    if (!intAtLeast(limit, 1)) throw new InvalidJobInputError(INVALID_LOG_LIMIT(executionId, limit));
    return this.executions.getExecutionLogs(executionId, limit);
  }

  private async resolveSchedule(
    job: JobRef,
    action: string,
  ): Promise<{ definition: JobDefinition; schedule: ScheduleSpec }> {
    if (typeof job === 'string' && !this.registry.get(job)) {
      const runtime = await this.schedules.runtime(job);
      if (!runtime) throw new InvalidJobInputError(NOT_RECURRING(job, action));
      return { definition: this.resolve(runtime.jobId), schedule: runtime };
    }
    const definition = this.resolve(job);
    if (!isRecurring(definition)) throw new InvalidJobInputError(NOT_RECURRING(definition.id, action));
    return { definition, schedule: decoratorSchedule(definition) };
  }

  private resolve(job: JobRef): JobDefinition {
    const definition =
      typeof job === 'string'
        ? this.registry.get(job)
        : typeof job === 'function'
          ? this.registry.getByClass(job)
          : undefined;
    if (!definition) {
      throw new InvalidJobInputError(
        UNKNOWN_JOB(
          typeof job === 'function' ? job.name : job,
          this.registry.all().map((d) => d.id),
        ),
      );
    }
    return definition;
  }

  private assertTenant(jobId: string, tenantId: unknown): asserts tenantId is string | null {
    if (tenantId === null) return;
    if (!isValidTenantId(tenantId)) {
      throw new InvalidJobInputError(INVALID_TENANT_ID(jobId, tenantId));
    }
  }

  private delayOf(jobId: string, options: EnqueueOptions): number | undefined {
    if (options.delayMs !== undefined && options.runAt !== undefined) {
      throw new InvalidJobInputError(
        INVALID_ENQUEUE_OPTION(jobId, 'delayMs/runAt', options, 'one of delayMs or runAt, not both'),
      );
    }
    if (options.delayMs !== undefined) {
      if (!Number.isInteger(options.delayMs) || options.delayMs < 0) {
        throw new InvalidJobInputError(INVALID_ENQUEUE_OPTION(jobId, 'delayMs', options.delayMs, 'an integer ≥ 0'));
      }
      return options.delayMs;
    }
    if (options.runAt !== undefined) {
      if (!(options.runAt instanceof Date) || Number.isNaN(options.runAt.getTime())) {
        throw new InvalidJobInputError(INVALID_ENQUEUE_OPTION(jobId, 'runAt', options.runAt, 'a valid Date'));
      }
      return Math.max(0, options.runAt.getTime() - this.clock.now());
    }
    return undefined;
  }

  private assertExecutionId(executionId: unknown): void {
    if (typeof executionId !== 'string' || executionId.length === 0) {
      throw new InvalidJobInputError(INVALID_EXECUTION_ID(executionId));
    }
  }
}
