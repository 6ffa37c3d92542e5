import { Logger } from '@nestjs/common';
import { BATCH_TIMED_OUT, BatchSummary } from '../../contracts';
import { JobRegistry } from '../job-registry';
import { JobDefinition } from '../job-definition';
import { BatchChildEnd, BatchRecord, BatchStore } from '../ports/batch-store.port';
import { RunQueue } from '../ports/run-queue.port';
import { RunKind } from '../run-kind';
import { JobRunFailure, RunInterrupted, RunSleeping } from '../run.types';
import { Invocation, PipelineStage } from './pipeline-stage';

/**
 * Counts a batch child's final state (completed or skipped, failed with no attempt left, cancelled) in its batch
 * before the transport records the outcome, and enqueues the batch's callbacks when it was the last. A crash between
 * the two leaves the child unfinished in the queue: it runs again, counts nothing twice, and the callbacks are
 * enqueued then; their ids make a second enqueue add nothing, so each callback runs once.
 */
export class BatchStage implements PipelineStage {
  private readonly logger = new Logger('BackgroundJobs');

  constructor(
    private readonly batches: BatchStore,
    private readonly runs: RunQueue,
    private readonly registry: JobRegistry,
  ) {
    batches.timeoutsWith((batchId) => this.timeout(batchId));
  }

  appliesTo(_definition: JobDefinition, kind: RunKind): boolean {
    return kind === 'batch-child';
  }

  run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { request, definition } = invocation;
    const batchId = request.batchId;
    if (!batchId) return next();
    return next().then(
      (result) => this.ended(batchId, request.executionId, 'completed', request.tenantId).then(() => result),
      (error: unknown) => {
        const end = endOf(error, request.attempt, definition.retry.attempts);
        if (!end) throw error;
        return this.ended(batchId, request.executionId, end, request.tenantId).then(() => {
          throw error;
        });
      },
    );
  }

  private async ended(
    batchId: string,
    executionId: string,
    end: BatchChildEnd,
    tenantId: string | null,
  ): Promise<void> {
    const finished = await this.batches.childEnded(batchId, executionId, end, tenantId);
    if (finished) await this.enqueueCallbacks(finished);
  }

  /**
   * A batch's deadline passed: ends the batch if it still runs, cancels its children not counted, then enqueues its
   * callbacks. Run again (another instance, or its instance died), each step repeats harmlessly: a cancel of an
   * ended run does nothing, the callbacks' ids make a second enqueue add nothing.
   */
  private async timeout(batchId: string): Promise<void> {
    const { due, pending } = await this.batches.timedOut(batchId);
    for (let i = 0; i < pending.length; i += CANCEL_CHUNK) {
      await Promise.all(pending.slice(i, i + CANCEL_CHUNK).map((id) => this.runs.cancel(id)));
    }
    if (pending.length) this.logger.warn(BATCH_TIMED_OUT(batchId, pending.length));
    if (due) await this.enqueueCallbacks(due);
  }

  private async enqueueCallbacks(batch: BatchRecord): Promise<void> {
    const summary = summaryOf(batch);
    const callbacks = [
      { name: 'complete', callback: batch.onComplete },
      { name: 'success', callback: batch.state === 'succeeded' ? batch.onSuccess : undefined },
    ];
    for (const { name, callback } of callbacks) {
      if (!callback) continue;
      const definition = this.registry.get(callback.job);
      if (!definition) {
        this.logger.error(`Batch ${batch.batchId}: its callback job "${callback.job}" is not registered here.`);
        continue;
      }
      await this.runs.enqueueMany(definition, [
        {
          id: callbackId(batch.batchId, name),
          tenantId: batch.tenantId,
          data: callback.data,
          kind: 'callback',
          batch: summary,
        },
      ]);
    }
    await this.batches.callbacksEnqueued(batch.batchId);
  }
}

/** A batch's record as callers see it (`getBatch`, `ctx.batch`): its counts, per tenant when it has tenants. */
export function summaryOf(batch: BatchRecord): BatchSummary {
  const { batchId, total, completed, failed, cancelled, pending, state, tenants } = batch;
  const summary: BatchSummary = { batchId, total, completed, failed, cancelled, pending, state };
  if (tenants && Object.keys(tenants).length > 0) summary.tenants = tenants;
  return summary;
}

/** How many children of a timed-out batch are cancelled at a time. */
const CANCEL_CHUNK = 100;

/** The execution id of a batch's callback: fixed, so enqueueing it twice adds it once. */
export const callbackId = (batchId: string, which: 'complete' | 'success' | string): string => `${batchId}.${which}`;

/** How a failed attempt ends the child for its batch; undefined when it is retried, handed back or asleep. */
function endOf(error: unknown, attempt: number, attempts: number): BatchChildEnd | undefined {
  // NOTE: a child handed back, or asleep, has not ended: it runs again later.
  if (error instanceof RunInterrupted || error instanceof RunSleeping) return undefined;
  if (!(error instanceof JobRunFailure)) return 'failed';
  if (error.kind === 'cancelled') return 'cancelled';
  if (error.retry && attempt < attempts) return undefined;
  return 'failed';
}
