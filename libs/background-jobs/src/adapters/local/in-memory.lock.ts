import { randomBytes } from 'node:crypto';
import {
  AcquireOptions,
  DistributedLock,
  INVALID_LOCK_OPTION,
  JobAbortedError,
  Lease,
  LOCK_LOST,
  LOCK_MAX_HOLD,
} from '../../contracts';
import { LazyAbortController, LossReportingLease } from '../../core';

interface Holder {
  token: string;
  expiresAt: number;
}

/**
 * `DistributedLock` for the embedded transport: the same leases as the Redis lock (random token, TTL,
 * renewal every ttl/3, compare-and-delete release, fencing tokens that only grow per key, `signal` aborted
 * with `lock-lost` when the lease is lost or capped), held in this process only.
 */
export class InMemoryLock extends DistributedLock {
  private readonly holders = new Map<string, Holder>();
  private readonly fences = new Map<string, number>();

  async acquire(key: string, options: AcquireOptions): Promise<Lease | null> {
    if (typeof key !== 'string' || key.length === 0) throw new TypeError(INVALID_LOCK_OPTION(key, 'key', key, 'a non-empty string'));
    const ttlMs = options?.ttlMs;
    if (!Number.isInteger(ttlMs) || ttlMs < 3) throw new RangeError(INVALID_LOCK_OPTION(key, 'ttlMs', ttlMs, 'an integer ≥ 3 (milliseconds)'));
    const current = this.holders.get(key);
    if (current && current.expiresAt > Date.now()) return null;
    const token = randomBytes(16).toString('hex');
    this.holders.set(key, { token, expiresAt: Date.now() + ttlMs });
    const fence = (this.fences.get(key) ?? 0) + 1;
    this.fences.set(key, fence);
    return new InMemoryLease(this, key, token, fence, ttlMs, options.maxHoldMs);
  }

  async withLock<R>(
    key: string,
    options: AcquireOptions,
    fn: (lease: Lease) => Promise<R>,
  ): Promise<{ acquired: true; result: R } | { acquired: false }> {
    const lease = await this.acquire(key, options);
    if (!lease) return { acquired: false };
    try {
      return { acquired: true, result: await fn(lease) };
    } finally {
      await lease.release();
    }
  }

  /** @internal compare-and-extend */
  extend(key: string, token: string, ttlMs: number): boolean {
    const holder = this.holders.get(key);
    if (!holder || holder.token !== token || holder.expiresAt <= Date.now()) return false;
    holder.expiresAt = Date.now() + ttlMs;
    return true;
  }

  /** @internal compare-and-delete */
  release(key: string, token: string): void {
    if (this.holders.get(key)?.token === token) this.holders.delete(key);
  }
}

class InMemoryLease implements LossReportingLease {
  private readonly controller = new LazyAbortController();
  private readonly renewal: NodeJS.Timeout;
  private readonly cap?: NodeJS.Timeout;
  private done = false;

  constructor(
    private readonly lock: InMemoryLock,
    readonly key: string,
    private readonly token: string,
    readonly fencingToken: number,
    private readonly ttlMs: number,
    maxHoldMs?: number,
  ) {
    this.renewal = setInterval(() => void this.extend(), Math.max(1, Math.floor(ttlMs / 3)));
    this.renewal.unref();
    if (maxHoldMs !== undefined) {
      this.cap = setTimeout(() => {
        this.lose(LOCK_MAX_HOLD(key, maxHoldMs));
        this.lock.release(key, token);
      }, maxHoldMs);
      this.cap.unref();
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  onLost(listener: (reason: unknown) => void): () => void {
    return this.controller.onAbort(listener);
  }

  async extend(): Promise<boolean> {
    if (this.done) return false;
    if (this.lock.extend(this.key, this.token, this.ttlMs)) return true;
    this.lose(LOCK_LOST(this.key, 'the lease expired or was taken over by another holder'));
    return false;
  }

  async release(): Promise<void> {
    if (this.done) return;
    this.stop();
    this.lock.release(this.key, this.token);
  }

  private lose(message: string): void {
    if (this.done) return;
    this.stop();
    this.controller.abort(new JobAbortedError('lock-lost', message));
  }

  private stop(): void {
    this.done = true;
    clearInterval(this.renewal);
    if (this.cap) clearTimeout(this.cap);
  }
}
