import { DEPENDENCY_FAILED, isFinalState, JobDependency, JobExecution } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { DependencyStore } from '../ports/dependency-store.port';
import { ExecutionReader } from '../ports/execution-reader.port';
import { RunKind } from '../run-kind';
import { DeferRun, JobRunFailure } from '../run.types';
import { Invocation, PipelineStage } from './pipeline-stage';

/**
 * A continuation, before admission and observe: while a dependency has not ended it leaves the pipeline deferred
 * (`waiting.reason: 'dependencies'`, no `started`, no attempt used) and the transport parks it until the last one
 * ends. Then `ctx.dependencies` holds each one's state and result; a failed or cancelled one cancels the run unless
 * it was enqueued with `onDependencyFailure: 'run'`.
 */
export class DependenciesStage implements PipelineStage {
  constructor(
    private readonly store: DependencyStore,
    private readonly executions: ExecutionReader,
  ) {}

  appliesTo(_definition: JobDefinition, kind: RunKind): boolean {
    return kind === 'continuation';
  }

  async run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { request, definition, context } = invocation;
    const after = request.after ?? [];
    if (after.length === 0) return next();
    const found = await Promise.all(after.map((id) => this.executions.getExecution(id)));
    if ((await this.store.pending(request.executionId)) > 0) {
      // NOTE: a dependency that ended without its end reaching the store (its instance died right after recording
      // it) is told now, so a continuation taken again (woken, or by its parking's last-resort time) never waits on
      // it forever.
      const missed = after.filter((id, i) => hasEnded(found[i]));
      await Promise.all(missed.map((id) => this.store.ended(id)));
      if (missed.length === 0 || (await this.store.pending(request.executionId)) > 0) {
        return new DeferRun({ reason: 'dependencies' });
      }
    }
    const dependencies = after.map((id, i) => dependencyOf(id, found[i]));
    context.dependencies = dependencies;
    const failed = dependencies.findIndex((d) => d.state === 'failed' || d.state === 'cancelled');
    if (failed >= 0 && request.onDependencyFailure !== 'run') {
      const { executionId, jobId, state } = dependencies[failed];
      const why = found[failed]?.failure?.message;
      throw new JobRunFailure('cancelled', DEPENDENCY_FAILED(definition.id, executionId, jobId, state, why));
    }
    return next();
  }
}

/** A dependency as `ctx.dependencies` shows it (one removed by history retention since it ended: `cancelled`). */
function dependencyOf(executionId: string, execution: JobExecution | null): JobDependency {
  if (!execution) return { executionId, jobId: 'unknown', state: 'cancelled' };
  const dependency: JobDependency = { executionId, jobId: execution.jobId, state: execution.state };
  if (execution.state === 'completed' && execution.result !== undefined) dependency.result = execution.result;
  return dependency;
}

/** True for a state a dependency does not leave any more. */
export const hasEnded = (execution: JobExecution | null): boolean => !execution || isFinalState(execution.state);
