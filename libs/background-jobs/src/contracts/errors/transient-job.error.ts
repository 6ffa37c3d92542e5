/** Throw it from a job to say "this may work later": the run is retried with backoff. */
export class TransientJobError extends Error {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientJobError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
