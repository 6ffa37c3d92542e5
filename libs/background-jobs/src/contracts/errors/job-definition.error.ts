/** A `@PipelineJob` definition or module option is invalid: thrown at boot, the app does not start. */
export class JobDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobDefinitionError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
