import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  BATCH_TOO_LARGE,
  BatchCallback,
  BatchOptions,
  BatchRun,
  BatchSummary,
  BatchTenantCounts,
  EMPTY_BATCH,
  INVALID_BATCH_ID,
  INVALID_BATCH_OPTION,
  INVALID_PAYLOAD,
  InvalidJobInputError,
} from '../../contracts';
import { JobDefinition } from '../job-definition';
import { payloadProblem } from '../payload';
import { BatchRecord, BatchStore } from '../ports/batch-store.port';
import { summaryOf } from '../pipeline/batch.stage';
import { tenantsOf } from '../pipeline/fan-out';
import { IdentifiedRun, OutgoingRun } from '../ports/transport.types';
import { TenantDirectoryLocator } from '../ports/tenant-directory-locator.port';
import { FacadeContext } from './facade-context';
import { RunsFacade } from './runs.facade';

/** The most runs one batch takes: its counts are one Redis hash, its children one enqueue per job. */
export const MAX_BATCH_RUNS = 10_000;

const OPTION_KEYS = new Set(['onComplete', 'onSuccess', 'timeoutMs']);

/** The facade's batches: enqueue related runs together with a callback that runs once, and read their counts. */
export class BatchesFacade {
  constructor(
    private readonly ctx: FacadeContext,
    private readonly runs: RunsFacade,
    private readonly store: BatchStore,
    private readonly directories: TenantDirectoryLocator,
  ) {}

  private readonly logger = new Logger('BackgroundJobs');

  async batch(runs: BatchRun[], options: BatchOptions = {}): Promise<{ batchId: string; executionIds: string[] }> {
    if (!Array.isArray(runs) || runs.length === 0) throw new InvalidJobInputError(EMPTY_BATCH());
    if (runs.length > MAX_BATCH_RUNS) throw new InvalidJobInputError(BATCH_TOO_LARGE(runs.length, MAX_BATCH_RUNS));
    if (typeof options !== 'object' || options === null) {
      throw new InvalidJobInputError(INVALID_BATCH_OPTION('options', options, 'an object'));
    }
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key)) {
        throw new InvalidJobInputError(
          INVALID_BATCH_OPTION(
            `option "${key}"`,
            (options as Record<string, unknown>)[key],
            'onComplete, onSuccess or timeoutMs',
          ),
        );
      }
    }
    const onComplete = this.callback('onComplete', options.onComplete);
    const onSuccess = this.callback('onSuccess', options.onSuccess);
    const timeoutMs = this.timeoutMs(options.timeoutMs);
    const batchId = `batch.${randomUUID()}`;
    const prepared = runs.map((run, index) => {
      if (typeof run !== 'object' || run === null) {
        throw new InvalidJobInputError(
          INVALID_BATCH_OPTION(`runs[${index}]`, run, 'an object { job, data?, tenantId?, delayMs? }'),
        );
      }
      return this.runs.prepare(run.job as never, run.data, { tenantId: run.tenantId, delayMs: run.delayMs });
    });
    // NOTE: a per-tenant job's run with no tenant is its fan-out: one child per tenant, listed now, so the batch's
    // total and per-tenant counts are known before any child runs.
    const expanded: Array<{ definition: JobDefinition; tenantId: string | null; run: OutgoingRun }> = [];
    for (const { definition, run } of prepared) {
      if (run.kind !== 'fan-out') expanded.push({ definition, tenantId: run.tenantId, run });
      else {
        const { tenants } = await tenantsOf(definition, this.directories.find(), this.logger);
        for (const tenantId of tenants) expanded.push({ definition, tenantId, run });
      }
      if (expanded.length > MAX_BATCH_RUNS) {
        throw new InvalidJobInputError(BATCH_TOO_LARGE(expanded.length, MAX_BATCH_RUNS, true));
      }
    }
    if (expanded.length === 0) throw new InvalidJobInputError(EMPTY_BATCH(true));
    const children = expanded.map(({ definition, tenantId, run }, index) => {
      const { data, delayMs } = run;
      const child: IdentifiedRun = { id: `${batchId}.${index}`, tenantId, data, delayMs, kind: 'batch-child', batchId };
      return { definition, child };
    });
    const tenants: Record<string, BatchTenantCounts> = {};
    for (const { child } of children) {
      if (child.tenantId === null) continue;
      const counts = (tenants[child.tenantId] ??= { total: 0, completed: 0, failed: 0, cancelled: 0, pending: 0 });
      counts.total += 1;
      counts.pending += 1;
    }
    const record: BatchRecord = {
      batchId,
      total: children.length,
      completed: 0,
      failed: 0,
      cancelled: 0,
      pending: children.length,
      state: 'running',
      tenantId: this.ctx.tenant.tenantId,
      callbacksEnqueued: false,
    };
    if (Object.keys(tenants).length > 0) record.tenants = tenants;
    if (onComplete) record.onComplete = onComplete;
    if (onSuccess) record.onSuccess = onSuccess;
    // NOTE: kept with the batch in the store (Redis on BullMQ), not as a timer here: any instance ends it on time.
    if (timeoutMs !== undefined) record.deadline = this.ctx.clock.now() + timeoutMs;
    await this.store.create(record);
    // NOTE: one enqueue per job of the batch (BullMQ: one addBulk round trip each).
    const byJob = new Map<JobDefinition, IdentifiedRun[]>();
    for (const { definition, child } of children) {
      const list = byJob.get(definition);
      if (list) list.push(child);
      else byJob.set(definition, [child]);
    }
    await Promise.all([...byJob].map(([definition, list]) => this.ctx.runs.enqueueMany(definition, list)));
    return { batchId, executionIds: children.map(({ child }) => child.id) };
  }

  async getBatch(batchId: string): Promise<BatchSummary | null> {
    if (typeof batchId !== 'string' || batchId.length === 0) throw new InvalidJobInputError(INVALID_BATCH_ID(batchId));
    const record = await this.store.get(batchId);
    if (!record) return null;
    return summaryOf(record);
  }

  private timeoutMs(value: unknown): number | undefined {
    if (value === undefined) return undefined;
    const { maxDelayMs } = this.ctx.options.bounds;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > maxDelayMs) {
      throw new InvalidJobInputError(
        INVALID_BATCH_OPTION('timeoutMs', value, `an integer from 1 to ${maxDelayMs} (bounds.maxDelayMs)`),
      );
    }
    return value;
  }

  private callback(option: string, callback: BatchCallback | undefined): (BatchCallback & { job: string }) | undefined {
    if (callback === undefined) return undefined;
    if (typeof callback !== 'object' || callback === null) {
      throw new InvalidJobInputError(INVALID_BATCH_OPTION(option, callback, '{ job, data? }'));
    }
    const definition = this.ctx.resolve(callback.job as never);
    const problem = payloadProblem(callback.data, this.ctx.options.maxPayloadBytes).problem;
    if (problem) throw new InvalidJobInputError(INVALID_PAYLOAD(definition.id, problem));
    return callback.data === undefined ? { job: definition.id } : { job: definition.id, data: callback.data };
  }
}
