/** A feature needs an optional peer dependency that is not installed; the message names the install command. */
export class MissingOptionalPeerError extends Error {
  constructor(
    readonly packageName: string,
    message: string,
  ) {
    super(message);
    this.name = 'MissingOptionalPeerError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
