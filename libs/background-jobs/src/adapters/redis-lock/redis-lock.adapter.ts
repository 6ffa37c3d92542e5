import { Logger } from '@nestjs/common';
import IORedis, { Cluster } from 'ioredis';
import { createHash, randomUUID } from 'node:crypto';
import { AcquireOptions, DistributedLock, Lease, LOCK_UNAVAILABLE, LockUnavailableError } from '../../contracts';
import { assertAcquireOptions, CompletionChannel, withLease } from '../../core';
import { RedisLease } from './redis-lease';
import { BATCH } from './redis-lock.scripts';

const BATCH_SHA = createHash('sha1').update(BATCH).digest('hex');

/** Most operations one BATCH call carries; more in one tick go in further calls. */
const MAX_BATCH = 256;

/** The lock operations asked for in one tick, sent together. */
interface Batch {
  keys: string[];
  args: Array<string | number>;
  waiters: Array<{ resolve: (value: unknown) => void; reject: (error: Error) => void }>;
  sent: boolean;
}

export interface RedisLockConfig {
  /** Key prefix: locks live at `<prefix>:bgj:lock:<key>`, fencing counters at `<prefix>:bgj:fence:<key>`. */
  prefix: string;
  /**
   * Redis Cluster: wrap the lock key in a hash tag (`lock:{<key>}`, `fence:{<key>}`), so a lock and its fencing
   * counter share a slot (one script touches both) while different locks spread over the shards.
   * @default false
   */
  hashTags?: boolean;
  /**
   * Longest wait for Redis in `acquire` before it fails with `LockUnavailableError`.
   * @default 5000
   */
  acquireTimeoutMs?: number;
  /**
   * @internal The transport's completion channel (`RunRequest.completionChannel`, the BullMQ worker's connection)
   * reaches the same Redis server as this lock's connection: leases may send their release there, ahead of the run's
   * outcome (the module sets it; both connections come from one connection config).
   */
  completionOnSameServer?: boolean;
}

/**
 * `DistributedLock` on one Redis: `SET NX PX` with a random token per lease, renewal every ttl/3 by
 * compare-and-extend, release by compare-and-delete, and a fencing token from a per-key `INCR` counter that
 * only grows. When renewal fails (the key was deleted or taken over, or Redis stayed unreachable until the
 * lease could have expired) the lease's `signal` aborts with `JobAbortedError('lock-lost')`.
 *
 * It answers "only one run at a time", for efficiency. It is not per-row duplicate prevention: a paused
 * holder can outlive its lease, so a domain that must never process a row twice keeps its own atomic claim
 * (and may reject stale writers with the fencing token).
 */
export class RedisLock extends DistributedLock {
  private readonly logger = new Logger('BackgroundJobs');
  private readonly leases = new Set<RedisLease>();
  private closing?: Promise<void>;
  /** A cluster (or hash-tagged keys): each lock is its own slot, so operations go one by one, not batched. */
  private readonly oneByOne: boolean;
  private batch?: Batch;
  /** Whether BATCH is known to be in the server's script cache (EVALSHA), else sent whole (EVAL, which caches it). */
  private batchLoaded = false;

  constructor(
    private readonly redis: IORedis | Cluster,
    private readonly config: RedisLockConfig,
  ) {
    super();
    this.oneByOne = config.hashTags === true || isCluster(redis);
    // NOTE: ioredis reconnects by itself; an unhandled 'error' event would crash the process.
    redis.on('error', () => undefined);
  }

  private get acquireTimeoutMs(): number {
    return this.config.acquireTimeoutMs ?? 5_000;
  }

  lockKey(key: string): string {
    return `${this.config.prefix}:bgj:lock:${this.config.hashTags ? `{${key}}` : key}`;
  }

  fenceKey(key: string): string {
    return `${this.config.prefix}:bgj:fence:${this.config.hashTags ? `{${key}}` : key}`;
  }

  acquire(key: string, options: AcquireOptions): Promise<Lease | null> {
    try {
      assertAcquireOptions(key, options);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const { ttlMs, maxHoldMs } = options;
    // NOTE: randomUUID draws from a cached entropy pool; randomBytes makes a system call per token (ADR 0005).
    const token = randomUUID();
    const started = Date.now();
    const timeoutMs = this.acquireTimeoutMs;
    // NOTE: one promise for the bounded wait and its outcome, not an async function awaiting a bounded race: this runs
    // on every locked run, and every promise costs (ADR 0005).
    return new Promise<Lease | null>((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(new LockUnavailableError(key, LOCK_UNAVAILABLE(key, timeoutMs, error.message), { cause: error }));
      };
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        fail(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.operate(
        'a',
        key,
        token,
        ttlMs,
        (fence) => {
          clearTimeout(timer);
          // NOTE: the caller was told the lock is unavailable; a key this late answer set is given back at once.
          if (timedOut) {
            if (fence !== null) this.operate('r', key, token, 0, ignore, ignore);
            return;
          }
          if (fence === null) return resolve(null);
          const lease = new RedisLease(this, key, token, Number(fence), ttlMs, started, maxHoldMs);
          this.leases.add(lease);
          resolve(lease);
        },
        fail,
      );
    });
  }

  withLock<R>(
    key: string,
    options: AcquireOptions,
    fn: (lease: Lease) => Promise<R>,
  ): Promise<{ acquired: true; result: R } | { acquired: false }> {
    return withLease(
      () => this.acquire(key, options),
      fn,
      (error) => this.logger.warn(`Releasing lock "${key}" failed (it expires by its TTL): ${error.message}`),
    );
  }

  /** Stops renewing every lease and closes the connection. Idempotent. */
  override close(): Promise<void> {
    this.closing ??= (async () => {
      for (const lease of this.leases) lease.stop();
      this.leases.clear();
      try {
        if (this.redis.status === 'ready') await this.redis.quit();
        else this.redis.disconnect();
      } catch {
        this.redis.disconnect();
      }
    })();
    return this.closing;
  }

  /** @internal `EVAL script numKeys ...keysAndArgs`, once the connection is ready (at once when it is). */
  eval(script: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown> {
    return this.whenReady(() => this.redis.eval(script, numKeys, ...keysAndArgs));
  }

  /**
   * @internal Acquire (`a`) or release (`r`) `key`, then `done` with the script's reply or `failed`. On one Redis
   * server, the operations of concurrent runs asked for in the same tick go as one BATCH script call: one command, one
   * reply and one promise of ioredis's for all of them, instead of one each (the lock's cost per run was mostly that:
   * ADR 0005); callbacks, not a promise per operation, for the same reason. Same scripts' logic, same
   * order; a failed call fails every operation in it. On a cluster each lock is its own slot: one by one.
   */
  operate(
    kind: 'a' | 'r',
    key: string,
    token: string,
    ttlMs: number,
    done: (reply: unknown) => void,
    failed: (error: Error) => void,
  ): void {
    const lockKey = this.lockKey(key);
    if (this.oneByOne) {
      // NOTE: the same script with one operation, as an auto-pipelined EVAL (grouped per node by ioredis).
      this.eval(BATCH, 2, lockKey, this.fenceKey(key), kind, token, ttlMs).then(
        (replies) => done((replies as unknown[])[0]),
        failed,
      );
      return;
    }
    let batch = this.batch;
    if (!batch) {
      const fresh: Batch = { keys: [], args: [], waiters: [], sent: false };
      this.batch = batch = fresh;
      process.nextTick(() => this.flush(fresh));
    }
    batch.keys.push(lockKey, this.fenceKey(key));
    batch.args.push(kind, token, ttlMs);
    batch.waiters.push({ resolve: done, reject: failed });
    if (batch.waiters.length >= MAX_BATCH) this.flush(batch);
  }

  private flush(batch: Batch): void {
    if (this.batch === batch) this.batch = undefined;
    if (batch.sent) return;
    batch.sent = true;
    const { keys, args, waiters } = batch;
    this.sendBatch(keys, args).then(
      (replies) => {
        for (let i = 0; i < waiters.length; i++) waiters[i].resolve((replies as unknown[])[i]);
      },
      (error: Error) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  }

  private sendBatch(keys: string[], args: Array<string | number>): Promise<unknown> {
    if (!this.batchLoaded) {
      return this.eval(BATCH, keys.length, ...keys, ...args).then((replies) => {
        this.batchLoaded = true;
        return replies;
      });
    }
    return this.evalsha(BATCH_SHA, keys.length, ...keys, ...args).catch((error: Error) => {
      // NOTE: the server's script cache was flushed, or this is another server since (a failover): send it whole.
      if (!error.message.includes('NOSCRIPT')) throw error;
      this.batchLoaded = false;
      return this.sendBatch(keys, args);
    });
  }

  /**
   * @internal Sends the release of `key` on `channel` (a connection to this lock's server, see
   * `completionOnSameServer`) without waiting: the commands sent after it there run after it. False, and nothing
   * sent, when that cannot hold: a cluster (each lock its own slot), or `channel` not a ready single-server connection.
   * A release that fails there (a script cache flushed, a failover in between) is done again on the lock's connection.
   */
  releaseOn(channel: CompletionChannel, key: string, token: string, onError: (error: Error) => void): boolean {
    const connection = channel.connection;
    if (!this.config.completionOnSameServer || this.oneByOne || this.closing || !isReadyServer(connection))
      return false;
    const keys = [this.lockKey(key), this.fenceKey(key)];
    const sent = this.batchLoaded
      ? connection.evalsha(BATCH_SHA, 2, ...keys, 'r', token, 0)
      : connection.eval(BATCH, 2, ...keys, 'r', token, 0);
    sent.catch(() => this.operate('r', key, token, 0, ignore, onError));
    return true;
  }

  /** `EVALSHA sha numKeys ...keysAndArgs`, once the connection is ready. */
  private evalsha(sha: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown> {
    return this.whenReady(() => this.redis.evalsha(sha, numKeys, ...keysAndArgs));
  }

  /** Sends at once when the connection is ready, else once it is (or fails when it cannot be). */
  private whenReady<T>(send: () => Promise<T>): Promise<T> {
    if (!this.closing && this.redis.status === 'ready') return send();
    return this.ready().then(send);
  }

  /** @internal */
  forget(lease: RedisLease): void {
    this.leases.delete(lease);
  }

  private ready(): Promise<void> {
    if (this.closing) return Promise.reject(new Error('the lock was closed'));
    if (this.redis.status === 'ready') return Promise.resolve();
    if (this.redis.status === 'wait') this.redis.connect().catch(() => undefined);
    if (this.redis.status === 'end' || this.redis.status === 'close') {
      return Promise.reject(new Error(`connection is ${this.redis.status}`));
    }
    return new Promise((resolve) => this.redis.once('ready', () => resolve()));
  }
}

const ignore = (): void => undefined;

/** A single-server ioredis connection that is ready: what is sent on it now goes out in order. */
function isReadyServer(connection: unknown): connection is IORedis {
  const client = (connection ?? {}) as Partial<IORedis> & { isCluster?: boolean };
  return (
    client.isCluster !== true &&
    client.status === 'ready' &&
    typeof client.evalsha === 'function' &&
    typeof client.eval === 'function'
  );
}

function isCluster(redis: IORedis | Cluster): redis is Cluster {
  return (redis as Cluster).isCluster === true;
}
