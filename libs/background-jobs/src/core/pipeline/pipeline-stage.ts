import { JobDefinition } from '../job-definition';
import { RunKind } from '../run-kind';
import { RunRequest } from '../run.types';
import { RunContext } from './run-context';

/** Everything a stage may look at for one run. */
export interface Invocation {
  readonly definition: JobDefinition;
  readonly request: RunRequest;
  readonly context: RunContext;
}

/** One concern of the pipeline; calls `next()` at most once. */
export interface PipelineStage {
  run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown>;
  /**
   * False when the stage has nothing to do for this job's runs of this kind: it is then left out of that chain.
   * Default true.
   */
  appliesTo?(definition: JobDefinition, kind: RunKind): boolean;
}
