import { BatchCallback, BatchSummary } from '../../contracts';

/** What a batch keeps beside its counts: its callbacks (job ids, payloads) and the tenant they run as. */
export interface BatchRecord extends BatchSummary {
  onComplete?: BatchCallback & { job: string };
  onSuccess?: BatchCallback & { job: string };
  tenantId: string | null;
  /** True once the callbacks of a finished batch are enqueued. */
  callbacksEnqueued: boolean;
  /** When the batch times out (epoch ms, `timeoutMs` after `batch()`); none without `timeoutMs`. */
  deadline?: number;
}

/** What handles a batch whose deadline passed: the batch stage's timeout. */
export type BatchTimeoutHandler = (batchId: string) => Promise<void>;

/** How a batch child ended, as its batch counts it. */
export type BatchChildEnd = 'completed' | 'failed' | 'cancelled';

/**
 * Where batches are counted (Redis on BullMQ, memory on the embedded transport). Each child's final state is counted
 * once, atomically, whatever instance records it and however often; the batch is finished when all have ended.
 */
export abstract class BatchStore {
  /**
   * Stores a new batch (all pending) before its children are enqueued; with a `deadline`, keeps it where every
   * instance finds it (Redis on BullMQ), so the timeout holds whichever instance made the batch and after restarts.
   */
  abstract create(batch: BatchRecord): Promise<void>;
  /**
   * How the store hands over a batch whose deadline passed (set once, when the pipeline is built). The handler may
   * run more than once for one batch (two instances, or a retry after a failure): `timedOut` makes that harmless.
   */
  abstract timeoutsWith(handler: BatchTimeoutHandler): void;
  /**
   * Counts one child's final state, in its tenant's counts too when it has one (a second call for the same child counts nothing). Resolves the batch when it is
   * finished and its callbacks are not yet confirmed enqueued, so the caller enqueues them (under ids that make a
   * second enqueue add nothing) and confirms; null otherwise.
   */
  abstract childEnded(
    batchId: string,
    executionId: string,
    end: BatchChildEnd,
    tenantId: string | null,
  ): Promise<BatchRecord | null>;
  /**
   * The batch's timeout came due: a batch still running ends `failed`, its children not yet counted counted
   * `cancelled` (later ends of theirs count nothing). Resolves those children's ids (also when a second call finds
   * the batch already timed out, so a retried timeout cancels them again) and, as `childEnded` does, the record when
   * its callbacks are due; a batch that finished before its timeout gives `{ due: null, pending: [] }`.
   */
  abstract timedOut(batchId: string): Promise<{ due: BatchRecord | null; pending: string[] }>;
  /** Confirms the callbacks of a finished batch are enqueued. */
  abstract callbacksEnqueued(batchId: string): Promise<void>;
  abstract get(batchId: string): Promise<BatchRecord | null>;
}
