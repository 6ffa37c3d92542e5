import { DEPENDENCY_FAILED, isFinalState, JobDependency, JobExecution } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { Clock } from '../clock';
import { DependencyStore } from '../ports/dependency-store.port';
import { ExecutionReader } from '../ports/execution-reader.port';
import { RunKind } from '../run-kind';
import { DeferRun, JobRunFailure } from '../run.types';
import { Invocation, PipelineStage } from './pipeline-stage';

/** A parked continuation is taken again to recheck its dependencies no sooner than this… */
export const RECHECK_MIN_MS = 1_000;
/** …and no later than this, whatever their age. */
export const RECHECK_MAX_MS = 5 * 60_000;

/**
 * A continuation, before admission and observe: while a dependency has not ended it leaves the pipeline deferred
 * (`waiting.reason: 'dependencies'`, no `started`, no attempt used) and the transport parks it until the last one
 * ends. Then `ctx.dependencies` holds each one's state and result (DependencyFailureStage, after observe, cancels
 * the run when one failed).
 *
 * The dependencies' own records decide, not the store: the store only wakes the run. A wake can be lost (the
 * instance that recorded a dependency's end died before telling the store, or the store's keys were lost), so the
 * parking also ends on its own at a recheck time — a tenth of the youngest pending dependency's age, from
 * RECHECK_MIN_MS to RECHECK_MAX_MS — and the run taken then looks again: a lost wake costs at most that delay.
 */
export class DependenciesStage implements PipelineStage {
  constructor(
    private readonly store: DependencyStore,
    private readonly executions: ExecutionReader,
    private readonly clock: Clock,
  ) {}

  appliesTo(_definition: JobDefinition, kind: RunKind): boolean {
    return kind === 'continuation';
  }

  async run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { request, context } = invocation;
    const after = request.after ?? [];
    if (after.length === 0) return next();
    const found = await Promise.all(after.map((id) => this.executions.getExecution(id)));
    const pending = found.filter((execution): execution is JobExecution => !hasEnded(execution));
    if ((await this.store.pending(request.executionId)) > 0) {
      // NOTE: the ends the store missed are told now (the woken dependents of each are woken as usual); when all
      // ended, the run goes on and the store forgets it, whatever its keys still say.
      const missed = after.filter((_, i) => hasEnded(found[i]));
      await Promise.all(missed.map((id) => this.store.ended(id)));
      if (pending.length === 0) await this.store.forget(request.executionId);
    }
    if (pending.length > 0) return new DeferRun({ reason: 'dependencies', until: this.recheckAt(pending) });
    context.dependencies = after.map((id, i) => dependencyOf(id, found[i], request.onDependencyFailure));
    return next();
  }

  private recheckAt(pending: JobExecution[]): Date {
    const now = this.clock.now();
    const youngest = Math.max(...pending.map((execution) => execution.createdAt.getTime()));
    const delay = Math.min(RECHECK_MAX_MS, Math.max(RECHECK_MIN_MS, Math.round((now - youngest) / 10)));
    return new Date(now + delay);
  }
}

/**
 * After observe: a continuation whose dependency failed or was cancelled is cancelled (unless enqueued with
 * `onDependencyFailure: 'run'`), as an outcome the run's events and record show, naming the dependency and why.
 */
export class DependencyFailureStage implements PipelineStage {
  appliesTo(_definition: JobDefinition, kind: RunKind): boolean {
    return kind === 'continuation';
  }

  run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { request, definition, context } = invocation;
    if (request.onDependencyFailure === 'run') return next();
    const failed = context.dependencies?.find((d) => d.state === 'failed' || d.state === 'cancelled');
    if (!failed) return next();
    const { executionId, jobId, state } = failed;
    const why = failureMessages.get(failed);
    return Promise.reject(
      new JobRunFailure('cancelled', DEPENDENCY_FAILED(definition.id, executionId, jobId, state, why)),
    );
  }
}

/** Each failed dependency's failure message, for the cancel that names it (kept off `ctx.dependencies`). */
const failureMessages = new WeakMap<JobDependency, string>();

/** A dependency as `ctx.dependencies` shows it (one removed by history retention since it ended: `cancelled`). */
function dependencyOf(
  executionId: string,
  execution: JobExecution | null,
  policy: 'cancel' | 'run' | undefined,
): JobDependency {
  if (!execution) return { executionId, jobId: 'unknown', state: 'cancelled' };
  const dependency: JobDependency = { executionId, jobId: execution.jobId, state: execution.state };
  const message = execution.failure?.message;
  if (policy !== 'run' && message !== undefined) failureMessages.set(dependency, message);
  if (execution.state === 'completed' && execution.result !== undefined) dependency.result = execution.result;
  return dependency;
}

/** True for a state a dependency does not leave any more. */
export const hasEnded = (execution: JobExecution | null): boolean => !execution || isFinalState(execution.state);
