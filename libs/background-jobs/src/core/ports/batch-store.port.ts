import { BatchCallback, BatchSummary } from '../../contracts';

/** What a batch keeps beside its counts: its callbacks (job ids, payloads) and the tenant they run as. */
export interface BatchRecord extends BatchSummary {
  onComplete?: BatchCallback & { job: string };
  onSuccess?: BatchCallback & { job: string };
  tenantId: string | null;
  /** True once the callbacks of a finished batch are enqueued. */
  callbacksEnqueued: boolean;
}

/** How a batch child ended, as its batch counts it. */
export type BatchChildEnd = 'completed' | 'failed' | 'cancelled';

/**
 * Where batches are counted (Redis on BullMQ, memory on the embedded transport). Each child's final state is counted
 * once, atomically, whatever instance records it and however often; the batch is finished when all have ended.
 */
export abstract class BatchStore {
  /** Stores a new batch (all pending) before its children are enqueued. */
  abstract create(batch: BatchRecord): Promise<void>;
  /**
   * Counts one child's final state (a second call for the same child counts nothing). Resolves the batch when it is
   * finished and its callbacks are not yet confirmed enqueued, so the caller enqueues them (under ids that make a
   * second enqueue add nothing) and confirms; null otherwise.
   */
  abstract childEnded(batchId: string, executionId: string, end: BatchChildEnd): Promise<BatchRecord | null>;
  /** Confirms the callbacks of a finished batch are enqueued. */
  abstract callbacksEnqueued(batchId: string): Promise<void>;
  abstract get(batchId: string): Promise<BatchRecord | null>;
}
