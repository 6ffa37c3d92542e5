/** A held lock. `signal` aborts (reason `lock-lost`) when renewal fails. */
export interface Lease {
  readonly key: string;
  /** Strictly increases per key with every acquisition; pass it to writes to reject stale holders. */
  readonly fencingToken: number;
  readonly signal: AbortSignal;
  /** Push the expiry out by another ttl; false when the lease was already lost. */
  extend(): Promise<boolean>;
  /** Compare-and-delete: releases only if this lease still owns the key. */
  release(): Promise<void>;
}

export interface AcquireOptions {
  ttlMs: number;
  /**
   * Give the lease up (abort `signal`) after this total hold time.
   * @default undefined (held until released or lost)
   */
  maxHoldMs?: number;
}

/**
 * A lease-based lock: one holder at a time, for efficiency. It is not per-row duplicate prevention:
 * that belongs to the domain's atomic claim.
 */
export abstract class DistributedLock {
  /** Returns a lease, or `null` when another holder has the key. */
  abstract acquire(key: string, options: AcquireOptions): Promise<Lease | null>;
  /** Runs `fn` under the lock; resolves `{ acquired: false }` without running it when held elsewhere. */
  abstract withLock<R>(
    key: string,
    options: AcquireOptions,
    fn: (lease: Lease) => Promise<R>,
  ): Promise<{ acquired: true; result: R } | { acquired: false }>;
  /** Stops renewing every lease and releases the lock's resources (its connection); the module calls it on shutdown. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
