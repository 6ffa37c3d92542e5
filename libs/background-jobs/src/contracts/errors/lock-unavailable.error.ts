/**
 * `DistributedLock.acquire` could not reach the lock store (Redis down, unreachable, or too slow) within its
 * bounded wait. Nothing is held. It is `retryable`: a run that hits it is classified transient and retried.
 */
export class LockUnavailableError extends Error {
  readonly retryable = true;
  constructor(
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LockUnavailableError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
