/** A transport part was used before its start-up loaded what it needs: a bug in the library's lifecycle order. */
export class TransportNotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportNotReadyError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
