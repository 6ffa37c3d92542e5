import { BatchChildEnd, BatchRecord, BatchStore } from '../../core';

/** Batches of the embedded transport, counted in memory: one process, so a plain map is atomic. */
export class LocalBatches extends BatchStore {
  private readonly batches = new Map<string, { record: BatchRecord; ended: Set<string> }>();

  async create(batch: BatchRecord): Promise<void> {
    this.batches.set(batch.batchId, { record: { ...batch }, ended: new Set() });
  }

  async childEnded(batchId: string, executionId: string, end: BatchChildEnd): Promise<BatchRecord | null> {
    const batch = this.batches.get(batchId);
    if (!batch) return null;
    const { record, ended } = batch;
    if (!ended.has(executionId)) {
      ended.add(executionId);
      record[end] += 1;
      record.pending -= 1;
      if (record.pending === 0) record.state = record.failed + record.cancelled === 0 ? 'succeeded' : 'failed';
    }
    return record.pending === 0 && !record.callbacksEnqueued ? { ...record } : null;
  }

  async callbacksEnqueued(batchId: string): Promise<void> {
    const batch = this.batches.get(batchId);
    if (batch) batch.record.callbacksEnqueued = true;
  }

  async get(batchId: string): Promise<BatchRecord | null> {
    const batch = this.batches.get(batchId);
    return batch ? { ...batch.record } : null;
  }
}
