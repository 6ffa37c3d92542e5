import { BatchChildEnd, BatchRecord, BatchStore } from '../../core';
import { BATCH_CHILD_ENDED } from './bullmq-scripts';
import { RedisClient } from './redis-connection';

type BatchCommands = RedisClient & {
  bgjBatchChildEnded(hash: string, ended: string, executionId: string, end: string): Promise<[number, string[]] | null>;
};

/** Finished batches' keys expire after this long (their callbacks have run by then, or are in BullMQ's history). */
const FINISHED_TTL_S = 7 * 24 * 3600;

/**
 * Batches in Redis: one hash of counts and callbacks and one set of the children counted, per batch. Both keys carry
 * the batch id as their hash tag (`…:batch:{<id>}:…`; a prefix with its own tag keeps that one), so the script that
 * counts a child touches one slot on a Cluster.
 */
export class BullmqBatches extends BatchStore {
  private readonly defined = new WeakSet<object>();

  constructor(
    private readonly redis: () => RedisClient,
    private readonly prefix: string,
  ) {
    super();
  }

  async create(batch: BatchRecord): Promise<void> {
    const fields: Record<string, string> = {
      total: String(batch.total),
      completed: '0',
      failed: '0',
      cancelled: '0',
      pending: String(batch.total),
      state: 'running',
      tenantId: JSON.stringify(batch.tenantId),
    };
    if (batch.onComplete) fields.onComplete = JSON.stringify(batch.onComplete);
    if (batch.onSuccess) fields.onSuccess = JSON.stringify(batch.onSuccess);
    await this.redis().hset(this.hash(batch.batchId), fields);
  }

  async childEnded(batchId: string, executionId: string, end: BatchChildEnd): Promise<BatchRecord | null> {
    const answer = await this.client().bgjBatchChildEnded(this.hash(batchId), this.ended(batchId), executionId, end);
    if (!answer || answer[0] !== 1) return null;
    return recordOf(batchId, answer[1]);
  }

  async callbacksEnqueued(batchId: string): Promise<void> {
    const redis = this.redis();
    await redis.hset(this.hash(batchId), 'callbacks', 'enqueued');
    await Promise.all([redis.expire(this.hash(batchId), FINISHED_TTL_S), redis.del(this.ended(batchId))]);
  }

  async get(batchId: string): Promise<BatchRecord | null> {
    const fields = await this.redis().hgetall(this.hash(batchId));
    return Object.keys(fields).length ? recordOf(batchId, Object.entries(fields).flat()) : null;
  }

  private hash(batchId: string): string {
    return `${this.prefix}:bgj:batch:{${batchId}}:state`;
  }

  private ended(batchId: string): string {
    return `${this.prefix}:bgj:batch:{${batchId}}:ended`;
  }

  private client(): BatchCommands {
    const redis = this.redis();
    if (!this.defined.has(redis)) {
      redis.defineCommand('bgjBatchChildEnded', BATCH_CHILD_ENDED);
      this.defined.add(redis);
    }
    return redis as BatchCommands;
  }
}

/** A batch's hash (HGETALL as a flat list) as its record. */
function recordOf(batchId: string, flat: string[]): BatchRecord {
  const fields: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  const record: BatchRecord = {
    batchId,
    total: Number(fields.total),
    completed: Number(fields.completed),
    failed: Number(fields.failed),
    cancelled: Number(fields.cancelled),
    pending: Number(fields.pending),
    state: fields.state as BatchRecord['state'],
    tenantId: JSON.parse(fields.tenantId ?? 'null') as string | null,
    callbacksEnqueued: fields.callbacks === 'enqueued',
  };
  if (fields.onComplete) record.onComplete = JSON.parse(fields.onComplete);
  if (fields.onSuccess) record.onSuccess = JSON.parse(fields.onSuccess);
  return record;
}
