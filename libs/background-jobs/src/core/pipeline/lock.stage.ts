import { Logger } from '@nestjs/common';
import { DistributedLock, Lease, LOCK_BUSY, LOCK_NOT_CONFIGURED } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { CompletionChannel } from '../ports/completion-channel.port';
import { AheadReleasingLease, LossReportingLease } from '../ports/lease-loss.port';
import { JobRunFailure, SkipRun } from '../run.types';
import { Invocation, PipelineStage } from './pipeline-stage';

/**
 * The job-level lock (`@PipelineJob({ lock })`): one run of a job (per tenant) at a time, for efficiency.
 * A run that finds the lock held ends `skipped`; a lease lost mid-run aborts `ctx.signal` with `lock-lost`.
 * It is not per-row duplicate prevention: that stays with the domain's atomic claim.
 */
export class LockStage implements PipelineStage {
  private readonly logger = new Logger('BackgroundJobs');

  constructor(private readonly lock?: DistributedLock | null) {}

  appliesTo(definition: JobDefinition): boolean {
    return definition.lock !== undefined;
  }

  // NOTE: `then` chains, not an async function with three awaits and a `.catch`: the lock's own promises are most of
  // what it costs a run in Node (ADR 0005). The release is ordered before the run's end, so the next run
  // of the same key finds it free: sent ahead of the outcome on the transport's completion channel when the lease can
  // (no wait for its reply), else awaited.
  run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { definition, request, context } = invocation;
    if (!definition.lock) return next();
    if (!this.lock) return Promise.reject(new JobRunFailure('permanent', LOCK_NOT_CONFIGURED(definition.id)));
    const key =
      definition.lock.key ?? (request.tenantId === null ? definition.id : `${definition.id}:${request.tenantId}`);
    return this.lock.acquire(key, { ttlMs: definition.lock.ttlMs }).then((lease) => {
      if (!lease) return new SkipRun(LOCK_BUSY(key), 'lock-busy');
      const stopWatching = watchLoss(lease, (reason) => context.controller.abort(reason));
      context.lease = { key, fencingToken: lease.fencingToken };
      const warn = (error: Error) =>
        this.logger.warn(
          `Releasing lock "${key}" of job "${definition.id}" failed (it expires by its TTL): ${error.message}`,
        );
      return next().then(
        (result) => {
          stopWatching();
          const waiting = release(lease, request.completionChannel, warn);
          return waiting ? waiting.then(() => result) : result;
        },
        (thrown: unknown) => {
          stopWatching();
          const rethrow = (): never => {
            throw thrown;
          };
          const waiting = release(lease, request.completionChannel, warn);
          return waiting ? waiting.then(rethrow) : rethrow();
        },
      );
    });
  }
}

/**
 * Releases `lease`: nothing to wait for when it went ahead of the run's outcome on `channel`; else the release's
 * promise, which never rejects (a failed release is reported to `warn` and the key expires by its TTL).
 */
function release(
  lease: Lease,
  channel: CompletionChannel | undefined,
  warn: (error: Error) => void,
): Promise<void> | undefined {
  if (
    channel &&
    typeof (lease as Partial<AheadReleasingLease>).releaseAhead === 'function' &&
    (lease as AheadReleasingLease).releaseAhead(channel, warn)
  ) {
    return undefined;
  }
  return lease.release().then(undefined, warn);
}

/** Calls `onLost` with the reason when `lease` is lost; returns the function that stops watching. */
function watchLoss(lease: Lease, onLost: (reason: unknown) => void): () => void {
  // NOTE: any other DistributedLock (a test double, say) is watched through its public signal.
  if (typeof (lease as Partial<LossReportingLease>).onLost === 'function') {
    return (lease as LossReportingLease).onLost(onLost);
  }
  const listener = () => onLost(lease.signal.reason);
  lease.signal.addEventListener('abort', listener, { once: true });
  return () => lease.signal.removeEventListener('abort', listener);
}
