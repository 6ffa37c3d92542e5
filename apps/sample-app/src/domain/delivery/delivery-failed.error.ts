/** A provider refused or failed one send; the caller decides whether to retry it. Database errors are not wrapped. */
export class DeliveryFailedError extends Error {
  override readonly name = 'DeliveryFailedError';

  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}
