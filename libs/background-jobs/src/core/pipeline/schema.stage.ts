import { PermanentJobError, SCHEMA_REJECTED } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { JobRunFailure } from '../run.types';
import { Invocation, PipelineStage } from './pipeline-stage';

/** Checks the payload against the job's optional `schema` before anything else runs; a rejection is permanent. */
export class SchemaStage implements PipelineStage {
  appliesTo(definition: JobDefinition): boolean {
    return definition.schema !== undefined;
  }

  async run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { schema, id } = invocation.definition;
    if (!schema) return next();
    try {
      invocation.context.data =
        typeof schema === 'function' ? schema(invocation.context.data) : schema.parse(invocation.context.data);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new JobRunFailure('permanent', SCHEMA_REJECTED(id, reason), {
        cause: new PermanentJobError(reason, { cause: error }),
      });
    }
    return next();
  }
}
