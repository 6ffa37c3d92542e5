/** Throw it from a job to say "retrying cannot help": the run fails at once, with no retry. */
export class PermanentJobError extends Error {
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
