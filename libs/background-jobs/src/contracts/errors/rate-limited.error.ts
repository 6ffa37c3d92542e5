/**
 * Thrown from `execute` when a downstream service answered "too many requests": the run goes back without using an
 * attempt, and every key it counts against (its `rateLimit`, `concurrency` and shared `limits`) admits no run until
 * `retryAfterMs` has passed.
 */
export class RateLimitedError extends Error {
  constructor(
    readonly retryAfterMs: number,
    message = `rate limited: retry after ${retryAfterMs} ms`,
  ) {
    super(message);
    this.name = 'RateLimitedError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
