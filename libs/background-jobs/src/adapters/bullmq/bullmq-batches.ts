import { Logger } from '@nestjs/common';
import { BatchTenantCounts } from '../../contracts';
import { BatchChildEnd, BatchRecord, BatchStore, BatchTimeoutHandler } from '../../core';
import { BATCH_CHILD_ENDED, BATCH_TIMEOUT } from './bullmq-scripts';
import { RedisClient } from './redis-connection';

type BatchCommands = RedisClient & {
  bgjBatchChildEnded(
    hash: string,
    ended: string,
    executionId: string,
    end: string,
    tenantId: string,
  ): Promise<[number, string[]] | null>;
  bgjBatchTimeout(hash: string, ended: string, batchId: string): Promise<[number, string[], string[]] | null>;
};

/** Finished batches' keys expire after this long (their callbacks have run by then, or are in BullMQ's history). */
const FINISHED_TTL_S = 7 * 24 * 3600;

/** How many batches past their deadline one sweep takes. */
const SWEEP_BATCH = 50;

/**
 * Batches in Redis: one hash of counts and callbacks and one set of the children counted, per batch. Both keys carry
 * the batch id as their hash tag (`…:batch:{<id>}:…`; a prefix with its own tag keeps that one), so the script that
 * counts a child touches one slot on a Cluster. Deadlines (`timeoutMs`) are one sorted set of batch ids by deadline,
 * which every worker instance sweeps: a batch times out whichever instance made it, across restarts.
 */
export class BullmqBatches extends BatchStore {
  private readonly logger = new Logger('BackgroundJobs');
  private readonly defined = new WeakSet<object>();
  private onTimeout: BatchTimeoutHandler = async () => undefined;
  private sweeper?: NodeJS.Timeout;
  private sweeping = false;

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
    if (batch.deadline !== undefined) fields.deadline = String(batch.deadline);
    for (const [tenantId, counts] of Object.entries(batch.tenants ?? {})) {
      fields[`t.total:${tenantId}`] = String(counts.total);
      fields[`t.pending:${tenantId}`] = String(counts.pending);
    }
    await this.redis().hset(this.hash(batch.batchId), fields);
    // NOTE: after the hash: a sweep never finds a deadline whose batch is not stored yet.
    if (batch.deadline !== undefined) await this.redis().zadd(this.deadlines, batch.deadline, batch.batchId);
  }

  timeoutsWith(handler: BatchTimeoutHandler): void {
    this.onTimeout = handler;
  }

  /** Every `intervalMs`, hands the batches past their deadline to the timeout handler (worker instances). */
  startSweeping(intervalMs: number): void {
    this.sweeper ??= setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = true;
      this.sweep()
        .catch((e: Error) => this.logger.warn(`Batch timeout sweep failed: ${e.message}`))
        .finally(() => (this.sweeping = false));
    }, intervalMs);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Hands each batch past its deadline to the handler; a deadline leaves the set once handled. */
  async sweep(): Promise<void> {
    const due = await this.redis().zrangebyscore(this.deadlines, '-inf', Date.now(), 'LIMIT', 0, SWEEP_BATCH);
    for (const batchId of due) {
      await this.onTimeout(batchId);
      await this.redis().zrem(this.deadlines, batchId);
    }
  }

  async childEnded(
    batchId: string,
    executionId: string,
    end: BatchChildEnd,
    tenantId: string | null,
  ): Promise<BatchRecord | null> {
    const [hash, ended] = [this.hash(batchId), this.ended(batchId)];
    const answer = await this.client().bgjBatchChildEnded(hash, ended, executionId, end, tenantId ?? '');
    if (!answer || answer[0] !== 1) return null;
    return recordOf(batchId, answer[1]);
  }

  async timedOut(batchId: string): Promise<{ due: BatchRecord | null; pending: string[] }> {
    const answer = await this.client().bgjBatchTimeout(this.hash(batchId), this.ended(batchId), batchId);
    if (!answer) return { due: null, pending: [] };
    return { due: answer[0] === 1 ? recordOf(batchId, answer[1]) : null, pending: answer[2] };
  }

  async callbacksEnqueued(batchId: string): Promise<void> {
    const redis = this.redis();
    await redis.hset(this.hash(batchId), 'callbacks', 'enqueued');
    await Promise.all([
      redis.expire(this.hash(batchId), FINISHED_TTL_S),
      redis.del(this.ended(batchId)),
      redis.zrem(this.deadlines, batchId),
    ]);
  }

  async get(batchId: string): Promise<BatchRecord | null> {
    const fields = await this.redis().hgetall(this.hash(batchId));
    return Object.keys(fields).length ? recordOf(batchId, Object.entries(fields).flat()) : null;
  }

  /** The sorted set of batch ids by deadline (one key: each command on it touches one slot). */
  private get deadlines(): string {
    return `${this.prefix}:bgj:batch-deadlines`;
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
      redis.defineCommand(BATCH_CHILD_ENDED.name, BATCH_CHILD_ENDED);
      redis.defineCommand(BATCH_TIMEOUT.name, BATCH_TIMEOUT);
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
  if (fields.deadline) record.deadline = Number(fields.deadline);
  const tenants: Record<string, BatchTenantCounts> = {};
  for (const [field, value] of Object.entries(fields)) {
    const match = /^t\.(total|completed|failed|cancelled|pending):(.*)$/s.exec(field);
    if (!match) continue;
    const counts = (tenants[match[2]] ??= { total: 0, completed: 0, failed: 0, cancelled: 0, pending: 0 });
    counts[match[1] as keyof BatchTenantCounts] = Number(value);
  }
  if (Object.keys(tenants).length > 0) record.tenants = tenants;
  return record;
}
