/** Redis did not answer at boot (or a health probe); the message names where it was looked for and why it failed. */
export class RedisUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnreachableError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
