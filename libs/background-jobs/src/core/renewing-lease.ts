import { AcquireOptions, INVALID_LOCK_OPTION, JobAbortedError, Lease, LOCK_MAX_HOLD } from '../contracts';
import { intAtLeast } from './defaults';
import { LazyAbortController } from './lazy-abort-controller';
import { LossReportingLease } from './ports/lease-loss.port';

/** The one check of `acquire`'s arguments, for every built-in lock: a bad key or option throws before anything is held. */
export function assertAcquireOptions(key: unknown, options: AcquireOptions | undefined): void {
  if (typeof key !== 'string' || key.length === 0)
    throw new TypeError(INVALID_LOCK_OPTION(key, 'key', key, 'a non-empty string'));
  const ttlMs = options?.ttlMs;
  if (!intAtLeast(ttlMs, 3))
    throw new RangeError(INVALID_LOCK_OPTION(key, 'ttlMs', ttlMs, 'an integer ≥ 3 (milliseconds)'));
  const maxHoldMs = options?.maxHoldMs;
  if (maxHoldMs !== undefined && !intAtLeast(maxHoldMs, 1)) {
    throw new RangeError(INVALID_LOCK_OPTION(key, 'maxHoldMs', maxHoldMs, 'a positive integer (milliseconds)'));
  }
}

/** `withLock` of every built-in lock: acquire, run, release (a failed release is reported, the lease expires by its TTL). */
export async function withLease<R>(
  acquire: () => Promise<Lease | null>,
  fn: (lease: Lease) => Promise<R>,
  onReleaseError: (error: Error) => void,
): Promise<{ acquired: true; result: R } | { acquired: false }> {
  const lease = await acquire();
  if (!lease) return { acquired: false };
  try {
    return { acquired: true, result: await fn(lease) };
  } finally {
    await lease.release().catch(onReleaseError);
  }
}

/**
 * The lease code the built-in locks share: renewal every ttl/3, the `maxHoldMs` cap, release, and a `signal` (made only
 * when read) aborted with `lock-lost` when the lease is lost or capped. A store supplies `extend` and `deleteIfOurs`.
 */
export abstract class RenewingLease implements LossReportingLease {
  private readonly controller = new LazyAbortController();
  private readonly renewal: NodeJS.Timeout;
  private readonly cap?: NodeJS.Timeout;
  protected done = false;

  constructor(
    readonly key: string,
    readonly fencingToken: number,
    protected readonly ttlMs: number,
    maxHoldMs?: number,
  ) {
    const every = Math.max(1, Math.floor(ttlMs / 3));
    this.renewal = setInterval(() => void this.renew(every), every);
    this.renewal.unref();
    if (maxHoldMs !== undefined) {
      this.cap = setTimeout(() => {
        this.lose(LOCK_MAX_HOLD(key, maxHoldMs));
        void this.deleteIfOurs().catch(() => undefined);
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

  /** Push the expiry out by another ttl; false (and the lease lost) when it no longer owns the key. */
  abstract extend(): Promise<boolean>;

  release(): Promise<void> {
    if (this.done) return Promise.resolve();
    this.stop();
    return this.deleteIfOurs();
  }

  /** Stops the timers without touching the store or the signal. */
  stop(): void {
    this.done = true;
    clearInterval(this.renewal);
    if (this.cap) clearTimeout(this.cap);
  }

  /** Compare-and-delete in the store: removes the key only while this lease owns it. */
  protected abstract deleteIfOurs(): Promise<void>;

  /** One renewal, every ttl/3. */
  protected async renew(_every: number): Promise<void> {
    await this.extend();
  }

  protected lose(message: string): void {
    if (this.done) return;
    this.stop();
    this.controller.abort(new JobAbortedError('lock-lost', message));
  }
}
