/** `jobs.setLimit` named neither a shared limit nor a job with a limit, or gave a bad override; nothing was stored. */
export class UnknownLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownLimitError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
