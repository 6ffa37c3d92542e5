import { LOCK_LOST } from '../../contracts';
import { AheadReleasingLease, CompletionChannel, RenewingLease } from '../../core';
import type { RedisLock } from './redis-lock.adapter';
import { EXTEND } from './redis-lock.scripts';

/** One held lock; renews itself every ttl/3 until released, lost, or capped by `maxHoldMs`. */
export class RedisLease extends RenewingLease implements AheadReleasingLease {
  /** The earliest moment the key may have expired, as far as this process knows. */
  private expiresAt: number;

  constructor(
    private readonly lock: RedisLock,
    key: string,
    private readonly token: string,
    fencingToken: number,
    ttlMs: number,
    requestedAt: number,
    maxHoldMs?: number,
  ) {
    super(key, fencingToken, ttlMs, maxHoldMs);
    // NOTE: counted from before the request was sent: the key cannot outlive that, whatever the latency was.
    this.expiresAt = requestedAt + ttlMs;
  }

  async extend(): Promise<boolean> {
    if (this.done) return false;
    const requestedAt = Date.now();
    const extended = await this.lock.eval(EXTEND, 1, this.lock.lockKey(this.key), this.token, this.ttlMs);
    if (this.done) return false;
    if (extended === 1) {
      this.expiresAt = requestedAt + this.ttlMs;
      return true;
    }
    this.lose(LOCK_LOST(this.key, 'the key was deleted, expired or taken over by another holder'));
    return false;
  }

  /** @internal Stops the timers without touching Redis or the signal. */
  override stop(): void {
    super.stop();
    this.lock.forget(this);
  }

  /** Sends the release ahead of the run's outcome on the transport's connection when the lock can (see `RedisLock.releaseOn`). */
  releaseAhead(channel: CompletionChannel, onError: (error: Error) => void): boolean {
    if (this.done) return true;
    if (!this.lock.releaseOn(channel, this.key, this.token, onError)) return false;
    this.stop();
    return true;
  }

  protected deleteIfOurs(): Promise<void> {
    return new Promise((resolve, reject) => this.lock.operate('r', this.key, this.token, 0, () => resolve(), reject));
  }

  protected override async renew(every: number): Promise<void> {
    try {
      await bounded(this.extend(), every);
    } catch (error) {
      // NOTE: give up one interval before the key could expire, so the signal fires before anyone else can acquire.
      if (!this.done && Date.now() + every >= this.expiresAt) {
        this.lose(LOCK_LOST(this.key, `renewal failed until the lease could expire (${(error as Error).message})`));
      }
    }
  }
}

/** Rejects when `promise` does not settle within `ms`. */
function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  // NOTE: one promise, not a race of two and a finally.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
