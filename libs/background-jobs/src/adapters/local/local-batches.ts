import { Logger } from '@nestjs/common';
import { BatchChildEnd, BatchRecord, BatchStore, BatchTimeoutHandler } from '../../core';
import { LocalClock } from './manual-clock';

interface LocalBatch {
  record: BatchRecord;
  ended: Set<string>;
  timedOut?: boolean;
  timer?: unknown;
}

/**
 * Batches of the embedded transport, counted in memory: one process, so a plain map is atomic. A deadline is a
 * timer on the transport's clock (a test's ManualClock moves it).
 */
export class LocalBatches extends BatchStore {
  private readonly logger = new Logger('BackgroundJobs');
  private readonly batches = new Map<string, LocalBatch>();
  private onTimeout: BatchTimeoutHandler = async () => undefined;

  constructor(private readonly clock: LocalClock) {
    super();
  }

  async create(batch: BatchRecord): Promise<void> {
    const entry: LocalBatch = { record: copyOf(batch), ended: new Set() };
    this.batches.set(batch.batchId, entry);
    if (batch.deadline !== undefined) {
      const fire = () =>
        this.onTimeout(batch.batchId).catch((e: Error) =>
          this.logger.warn(`Timing out batch ${batch.batchId} failed: ${e.message}`),
        );
      entry.timer = this.clock.setTimer(fire, Math.max(0, batch.deadline - this.clock.now()));
    }
  }

  timeoutsWith(handler: BatchTimeoutHandler): void {
    this.onTimeout = handler;
  }

  /** Drops the deadline timers (the transport closes). */
  stop(): void {
    for (const batch of this.batches.values()) if (batch.timer !== undefined) this.clock.clearTimer(batch.timer);
  }

  async childEnded(
    batchId: string,
    executionId: string,
    end: BatchChildEnd,
    tenantId: string | null,
  ): Promise<BatchRecord | null> {
    const batch = this.batches.get(batchId);
    if (!batch) return null;
    const { record, ended } = batch;
    if (record.state === 'running' && !ended.has(executionId)) {
      ended.add(executionId);
      record[end] += 1;
      record.pending -= 1;
      const tenant = tenantId === null ? undefined : record.tenants?.[tenantId];
      if (tenant) {
        tenant[end] += 1;
        tenant.pending -= 1;
      }
      if (record.pending === 0) record.state = record.failed + record.cancelled === 0 ? 'succeeded' : 'failed';
    }
    return record.pending === 0 && !record.callbacksEnqueued ? copyOf(record) : null;
  }

  async timedOut(batchId: string): Promise<{ due: BatchRecord | null; pending: string[] }> {
    const batch = this.batches.get(batchId);
    if (!batch) return { due: null, pending: [] };
    const { record, ended } = batch;
    if (record.state === 'running') {
      record.cancelled += record.pending;
      record.pending = 0;
      for (const tenant of Object.values(record.tenants ?? {})) {
        tenant.cancelled += tenant.pending;
        tenant.pending = 0;
      }
      record.state = 'failed';
      batch.timedOut = true;
    }
    const pending =
      batch.timedOut && !record.callbacksEnqueued
        ? Array.from({ length: record.total }, (_, i) => `${batchId}.${i}`).filter((id) => !ended.has(id))
        : [];
    return { due: record.callbacksEnqueued ? null : copyOf(record), pending };
  }

  async callbacksEnqueued(batchId: string): Promise<void> {
    const batch = this.batches.get(batchId);
    if (!batch) return;
    batch.record.callbacksEnqueued = true;
    if (batch.timer !== undefined) this.clock.clearTimer(batch.timer);
    batch.timer = undefined;
  }

  async get(batchId: string): Promise<BatchRecord | null> {
    const batch = this.batches.get(batchId);
    return batch ? copyOf(batch.record) : null;
  }
}

/** A record with its per-tenant counts copied too: callers never share the stored one. */
function copyOf(record: BatchRecord): BatchRecord {
  const copy = { ...record };
  if (record.tenants) {
    copy.tenants = Object.fromEntries(Object.entries(record.tenants).map(([id, counts]) => [id, { ...counts }]));
  }
  return copy;
}
