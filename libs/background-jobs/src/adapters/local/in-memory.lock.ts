import { randomBytes } from 'node:crypto';
import { AcquireOptions, DistributedLock, Lease, LOCK_LOST } from '../../contracts';
import { assertAcquireOptions, RenewingLease, withLease } from '../../core';

interface Holder {
  token: string;
  expiresAt: number;
}

/**
 * `DistributedLock` for the embedded transport: the same leases as the Redis lock (random token, TTL,
 * renewal every ttl/3, compare-and-delete release, fencing tokens that only grow per key, `signal` aborted
 * with `lock-lost` when the lease is lost or capped by `maxHoldMs`), held in this process only.
 */
export class InMemoryLock extends DistributedLock {
  private readonly holders = new Map<string, Holder>();
  private readonly fences = new Map<string, number>();
  private readonly leases = new Set<InMemoryLease>();

  async acquire(key: string, options: AcquireOptions): Promise<Lease | null> {
    assertAcquireOptions(key, options);
    const current = this.holders.get(key);
    if (current && current.expiresAt > Date.now()) return null;
    const token = randomBytes(16).toString('hex');
    this.holders.set(key, { token, expiresAt: Date.now() + options.ttlMs });
    const fence = (this.fences.get(key) ?? 0) + 1;
    this.fences.set(key, fence);
    const lease = new InMemoryLease(this, key, token, fence, options.ttlMs, options.maxHoldMs);
    this.leases.add(lease);
    return lease;
  }

  withLock<R>(
    key: string,
    options: AcquireOptions,
    fn: (lease: Lease) => Promise<R>,
  ): Promise<{ acquired: true; result: R } | { acquired: false }> {
    return withLease(
      () => this.acquire(key, options),
      fn,
      () => undefined,
    );
  }

  /** Stops renewing every lease. */
  override async close(): Promise<void> {
    for (const lease of this.leases) lease.stop();
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

  /** @internal */
  forget(lease: InMemoryLease): void {
    this.leases.delete(lease);
  }
}

class InMemoryLease extends RenewingLease {
  constructor(
    private readonly lock: InMemoryLock,
    key: string,
    private readonly token: string,
    fencingToken: number,
    ttlMs: number,
    maxHoldMs?: number,
  ) {
    super(key, fencingToken, ttlMs, maxHoldMs);
  }

  async extend(): Promise<boolean> {
    if (this.done) return false;
    if (this.lock.extend(this.key, this.token, this.ttlMs)) return true;
    this.lose(LOCK_LOST(this.key, 'the lease expired or was taken over by another holder'));
    return false;
  }

  override stop(): void {
    super.stop();
    this.lock.forget(this);
  }

  protected async deleteIfOurs(): Promise<void> {
    this.lock.release(this.key, this.token);
  }
}
