/**
 * `runNow` (or any wait for a run's end) gave up after its `waitTimeoutMs`; the run itself goes on and can still be
 * read with `getExecution(executionId)`.
 */
export class WaitTimeoutError extends Error {
  constructor(
    readonly executionId: string,
    readonly timeoutMs: number,
    message: string,
  ) {
    super(message);
    this.name = 'WaitTimeoutError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
