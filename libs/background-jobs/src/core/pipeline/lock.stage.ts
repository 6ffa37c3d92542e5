import { Logger } from '@nestjs/common';
import { DistributedLock, LOCK_BUSY, LOCK_NOT_CONFIGURED } from '../../contracts';
import { JobDefinition } from '../job-definition';
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

  async run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { definition, request, context } = invocation;
    if (!definition.lock) return next();
    if (!this.lock) throw new JobRunFailure('permanent', LOCK_NOT_CONFIGURED(definition.id));
    const key = definition.lock.key ?? (request.tenantId === null ? definition.id : `${definition.id}:${request.tenantId}`);
    const lease = await this.lock.acquire(key, { ttlMs: definition.lock.ttlMs });
    if (!lease) return new SkipRun(LOCK_BUSY(key));
    const onLost = () => context.controller.abort(lease.signal.reason);
    lease.signal.addEventListener('abort', onLost, { once: true });
    context.lease = { key, fencingToken: lease.fencingToken };
    try {
      return await next();
    } finally {
      lease.signal.removeEventListener('abort', onLost);
      await lease.release().catch((error: Error) =>
        this.logger.warn(`Releasing lock "${key}" of job "${definition.id}" failed (it expires by its TTL): ${error.message}`),
      );
    }
  }
}
