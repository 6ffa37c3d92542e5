/** A call to `BackgroundJobs` got bad input; nothing was enqueued or changed. */
export class InvalidJobInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidJobInputError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
