import { SetMetadata } from '@nestjs/common';
import { JobEvent, JobEventName, ON_JOB_EVENT_METADATA } from './contracts';

/**
 * Calls the decorated method of a provider with every job event of the given names (all six run events when none
 * are given): `started | completed | failed | skipped | cancelled | retrying`; `step` (a durable step ended) only when
 * named. The module finds such methods at boot on every
 * provider, like `@PipelineJob` classes; the provider must be a singleton. A handler that throws or rejects is
 * logged and never changes the run; the run does not wait for an async handler.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class JobAlerts {
 *   @OnJobEvent('failed')
 *   onFailed(event: JobEvent<'failed'>) { this.pager.notify(`${event.jobId}: ${event.failure.message}`); }
 * }
 * ```
 */
export function OnJobEvent<N extends JobEventName = JobEventName>(
  ...names: N[]
): <M extends (event: JobEvent<N>) => unknown>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void {
  return (target, key, descriptor) => {
    SetMetadata(ON_JOB_EVENT_METADATA, names)(target, key, descriptor);
  };
}
