import { randomUUID } from 'node:crypto';
import {
  BATCH_TOO_LARGE,
  BatchCallback,
  BatchOptions,
  BatchRun,
  BatchSummary,
  EMPTY_BATCH,
  INVALID_BATCH_ID,
  INVALID_BATCH_OPTION,
  INVALID_PAYLOAD,
  InvalidJobInputError,
} from '../../contracts';
import { JobDefinition } from '../job-definition';
import { payloadProblem } from '../payload';
import { BatchRecord, BatchStore } from '../ports/batch-store.port';
import { IdentifiedRun } from '../ports/transport.types';
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
  ) {}

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
    const children = runs.map((run, index) => {
      if (typeof run !== 'object' || run === null) {
        throw new InvalidJobInputError(
          INVALID_BATCH_OPTION(`runs[${index}]`, run, 'an object { job, data?, tenantId?, delayMs? }'),
        );
      }
      const { definition, run: prepared } = this.runs.prepare(run.job as never, run.data, {
        tenantId: run.tenantId,
        delayMs: run.delayMs,
      });
      if (prepared.kind === 'fan-out') {
        throw new InvalidJobInputError(
          INVALID_BATCH_OPTION(`runs[${index}].tenantId`, null, `a tenant id: "${definition.id}" is per-tenant`),
        );
      }
      const child: IdentifiedRun = {
        id: `${batchId}.${index}`,
        tenantId: prepared.tenantId,
        data: prepared.data,
        delayMs: prepared.delayMs,
        kind: 'batch-child',
        batchId,
      };
      return { definition, child };
    });
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
    if (onComplete) record.onComplete = onComplete;
    if (onSuccess) record.onSuccess = onSuccess;
    // NOTE: kept with the batch in the store (Redis on BullMQ), not as a timer here: any instance ends it on time.
    if (timeoutMs !== undefined) record.deadline = this.ctx.clock.now() + timeoutMs;
    await this.store.create(record);
    // NOTE: one enqueue per job of the batch (BullMQ: one addBulk round trip each).
    const byJob = new Map<JobDefinition, IdentifiedRun[]>();
    for (const { definition, child } of children) byJob.set(definition, [...(byJob.get(definition) ?? []), child]);
    await Promise.all([...byJob].map(([definition, list]) => this.ctx.runs.enqueueMany(definition, list)));
    return { batchId, executionIds: children.map(({ child }) => child.id) };
  }

  async getBatch(batchId: string): Promise<BatchSummary | null> {
    if (typeof batchId !== 'string' || batchId.length === 0) throw new InvalidJobInputError(INVALID_BATCH_ID(batchId));
    const record = await this.store.get(batchId);
    if (!record) return null;
    const { batchId: id, total, completed, failed, cancelled, pending, state } = record;
    return { batchId: id, total, completed, failed, cancelled, pending, state };
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
