import { PermanentJobError } from './permanent-job.error';

/** A `ctx.step` misuse (a name used twice in one run, a result over the payload limit): the run fails, no retry. */
export class InvalidStepError extends PermanentJobError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidStepError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
