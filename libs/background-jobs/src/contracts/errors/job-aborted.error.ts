/** Why a run's `ctx.signal` was aborted. It is the signal's `reason`. */
export type AbortKind = 'cancelled' | 'timeout' | 'lock-lost' | 'shutdown';

/** The `reason` of an aborted `ctx.signal`; `kind` says what happened. */
export class JobAbortedError extends Error {
  constructor(
    readonly kind: AbortKind,
    message: string,
  ) {
    super(message);
    this.name = 'JobAbortedError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
