import { randomUUID } from 'node:crypto';
import {
  EnqueueOptions,
  INVALID_AFTER,
  INVALID_DEPENDENCY_POLICY,
  INVALID_ENQUEUE_OPTION,
  InvalidJobInputError,
  UNKNOWN_DEPENDENCY,
} from '../../contracts';
import { JobDefinition } from '../job-definition';
import { hasEnded } from '../pipeline/dependencies.stage';
import { DependencyStore } from '../ports/dependency-store.port';
import { OutgoingRun } from '../ports/transport.types';
import { FacadeContext } from './facade-context';

/** The most dependencies one continuation may wait on. */
export const MAX_DEPENDENCIES = 1_000;

/**
 * `enqueue(B, data, { after })`: checks every dependency exists (nothing is enqueued otherwise), registers those not
 * ended yet, then enqueues B as a `continuation` under an id chosen here, so B is registered before any worker can
 * take it. A dependency that ended between the check and the registration is counted by the second look.
 */
export async function enqueueContinuation(
  ctx: FacadeContext,
  dependencies: DependencyStore,
  definition: JobDefinition,
  run: OutgoingRun,
  options: EnqueueOptions,
): Promise<string> {
  const jobId = definition.id;
  const after = typeof options.after === 'string' ? [options.after] : options.after;
  if (
    !Array.isArray(after) ||
    after.length === 0 ||
    after.length > MAX_DEPENDENCIES ||
    after.some((id) => typeof id !== 'string' || id.length === 0)
  ) {
    throw new InvalidJobInputError(INVALID_AFTER(jobId, options.after, MAX_DEPENDENCIES));
  }
  const policy = options.onDependencyFailure ?? 'cancel';
  if (policy !== 'cancel' && policy !== 'run') {
    throw new InvalidJobInputError(INVALID_DEPENDENCY_POLICY(jobId, options.onDependencyFailure));
  }
  if (run.dedupe !== undefined || run.kind !== 'plain') {
    const what = run.dedupe !== undefined ? 'dedupe or dedupeKey' : 'a host-level per-tenant run';
    throw new InvalidJobInputError(
      INVALID_ENQUEUE_OPTION(jobId, 'after', options.after, `after without ${what} (a continuation is one run)`),
    );
  }
  const ids = [...new Set(after)];
  const found = await Promise.all(ids.map((id) => ctx.executions.getExecution(id)));
  const unknown = ids.findIndex((_, i) => !found[i]);
  if (unknown >= 0) throw new InvalidJobInputError(UNKNOWN_DEPENDENCY(jobId, ids[unknown]));
  const id = randomUUID();
  const pending = ids.filter((_, i) => !hasEnded(found[i]));
  await dependencies.wait(id, definition.queue, pending);
  const again = await Promise.all(pending.map((dependency) => ctx.executions.getExecution(dependency)));
  await Promise.all(pending.filter((_, i) => hasEnded(again[i])).map((dependency) => dependencies.ended(dependency)));
  const { tenantId, data, delayMs } = run;
  const continuation = { id, tenantId, data, delayMs, kind: 'continuation' as const, after: ids };
  await ctx.runs.enqueueMany(definition, [{ ...continuation, onDependencyFailure: policy }]);
  return id;
}
