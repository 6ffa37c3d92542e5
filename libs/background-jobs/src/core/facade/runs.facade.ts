import { Logger } from '@nestjs/common';
import {
  DISABLED_JOB,
  EnqueueOptions,
  INVALID_ENQUEUE_OPTION,
  INVALID_PAYLOAD,
  InvalidJobInputError,
  JobExecution,
  PAYLOAD_CHANGED_BY_JSON,
  RunNowOptions,
} from '../../contracts';
import { DEFAULTS } from '../defaults';
import { OPTION_RULES } from '../options';
import { isRecurring, JobDefinition } from '../job-definition';
import { OutgoingRun } from '../ports/transport.types';
import { payloadProblem } from '../payload';
import { dedupeOf } from './enqueue-dedupe';
import { FacadeContext, JobRef } from './facade-context';
import { DependencyStore } from '../ports/dependency-store.port';
import { enqueueContinuation } from './continuations';

/** The facade's runs: enqueue, run now, trigger a schedule's tick, cancel. */
export class RunsFacade {
  private readonly logger = new Logger('BackgroundJobs');

  constructor(
    private readonly ctx: FacadeContext,
    private readonly dependencies: DependencyStore,
  ) {}

  async enqueue(job: JobRef, data: unknown, options: EnqueueOptions = {}): Promise<string> {
    const { definition, run } = this.prepare(job, data, options);
    if (options.after !== undefined || options.onDependencyFailure !== undefined) {
      return enqueueContinuation(this.ctx, this.dependencies, definition, run, options);
    }
    return this.ctx.runs.enqueue(definition, run);
  }

  /** A run checked and ready to enqueue; throws InvalidJobInputError on bad input. */
  prepare(job: JobRef, data: unknown, options: EnqueueOptions): { definition: JobDefinition; run: OutgoingRun } {
    const definition = this.ctx.resolve(job);
    if (!definition.enabled) throw new InvalidJobInputError(DISABLED_JOB(definition.id));
    const tenantId = options.tenantId === undefined ? this.ctx.tenant.tenantId : options.tenantId;
    this.ctx.assertTenant(definition.id, tenantId);
    const delayMs = this.delayOf(definition.id, options);
    const { problem, change } = payloadProblem(data, this.ctx.options.maxPayloadBytes);
    if (problem) throw new InvalidJobInputError(INVALID_PAYLOAD(definition.id, problem));
    if (change) {
      const reject = this.ctx.options.payloadChanges === 'reject';
      const message = PAYLOAD_CHANGED_BY_JSON(definition.id, change.path, change.what, change.arrivesAs, reject);
      if (reject) throw new InvalidJobInputError(message);
      this.logger.warn(message);
    }
    const dedupe = dedupeOf(definition.id, options, this.ctx.options.bounds.maxDedupeKeyLength);
    const { priority } = options;
    if (priority !== undefined && !OPTION_RULES.priority.valid(priority)) {
      const expected = OPTION_RULES.priority.expected;
      throw new InvalidJobInputError(INVALID_ENQUEUE_OPTION(definition.id, 'priority', priority, expected));
    }
    // NOTE: a per-tenant job enqueued at host level fans out to every tenant; with a tenant it runs for that one.
    const kind = definition.tenancy === 'per-tenant' && tenantId === null ? 'fan-out' : 'plain';
    return { definition, run: { tenantId, data, delayMs, dedupe, priority, kind } };
  }

  async runNow(job: JobRef, options: RunNowOptions<unknown> = {}): Promise<JobExecution> {
    const waitTimeoutMs = options.waitTimeoutMs ?? DEFAULTS.runNowWaitTimeoutMs;
    const id = this.ctx.resolve(job).id;
    if (!Number.isInteger(waitTimeoutMs) || waitTimeoutMs <= 0) {
      throw new InvalidJobInputError(INVALID_ENQUEUE_OPTION(id, 'waitTimeoutMs', waitTimeoutMs, 'a positive integer'));
    }
    const { data, waitTimeoutMs: _ignored, ...enqueueOptions } = options;
    const executionId = await this.enqueue(job, data, enqueueOptions);
    return this.ctx.executions.waitForFinal(executionId, waitTimeoutMs);
  }

  async trigger(job: JobRef): Promise<string> {
    const runtime =
      typeof job === 'string' && !this.ctx.registry.get(job) ? await this.ctx.schedules.runtime(job) : undefined;
    if (runtime) return this.enqueue(runtime.jobId, runtime.data, { tenantId: runtime.tenantId });
    const definition = this.ctx.resolve(job);
    return this.enqueue(definition.id, isRecurring(definition) ? definition.data : undefined, { tenantId: null });
  }

  cancel(executionId: string): Promise<boolean> {
    this.ctx.assertExecutionId(executionId);
    return this.ctx.runs.cancel(executionId);
  }

  private delayOf(jobId: string, options: EnqueueOptions): number | undefined {
    if (options.delayMs !== undefined && options.runAt !== undefined) {
      throw new InvalidJobInputError(
        INVALID_ENQUEUE_OPTION(jobId, 'delayMs/runAt', options, 'one of delayMs or runAt, not both'),
      );
    }
    const { maxDelayMs } = this.ctx.options.bounds;
    if (options.delayMs !== undefined) {
      if (!Number.isInteger(options.delayMs) || options.delayMs < 0 || options.delayMs > maxDelayMs) {
        throw new InvalidJobInputError(
          INVALID_ENQUEUE_OPTION(
            jobId,
            'delayMs',
            options.delayMs,
            `an integer from 0 to ${maxDelayMs} (bounds.maxDelayMs)`,
          ),
        );
      }
      return options.delayMs;
    }
    if (options.runAt !== undefined) {
      const delayMs = options.runAt instanceof Date ? options.runAt.getTime() - this.ctx.clock.now() : Number.NaN;
      if (Number.isNaN(delayMs) || delayMs > maxDelayMs) {
        throw new InvalidJobInputError(
          INVALID_ENQUEUE_OPTION(
            jobId,
            'runAt',
            options.runAt,
            `a valid Date at most ${maxDelayMs} ms from now (bounds.maxDelayMs)`,
          ),
        );
      }
      return Math.max(0, delayMs);
    }
    return undefined;
  }
}
