import { Injectable, Logger } from '@nestjs/common';
import { JobEvent, JobEventName } from '../contracts';

/** A function told about job events: an `@OnJobEvent` method, the run logger, the metrics. */
export type JobEventHandler = (event: JobEvent) => unknown;

/**
 * The one hook runs are observed through: the pipeline emits `started | completed | failed | skipped | cancelled |
 * retrying`, and the logs, the metrics and the host's `@OnJobEvent` methods all subscribe here.
 */
@Injectable()
export class JobEvents {
  private readonly logger = new Logger('BackgroundJobs');
  private readonly handlers = new Map<JobEventName, { handler: JobEventHandler; label: string }[]>();

  /** Subscribes `handler` to events of `names`; `label` names it when it fails. */
  on(names: readonly JobEventName[], handler: JobEventHandler, label: string): void {
    for (const name of names) {
      const list = this.handlers.get(name) ?? [];
      list.push({ handler, label });
      this.handlers.set(name, list);
    }
  }

  /** True when some handler listens to `name` (the pipeline builds no event nobody reads). */
  has(name: JobEventName): boolean {
    return (this.handlers.get(name)?.length ?? 0) > 0;
  }

  /** Tells every handler of `event.name`, in subscription order. A handler's throw or rejection is logged, never rethrown. */
  emit(event: JobEvent): void {
    const list = this.handlers.get(event.name);
    if (!list) return;
    for (const { handler, label } of list) {
      try {
        const returned = handler(event);
        if (returned instanceof Promise) returned.catch((error: unknown) => this.handlerFailed(label, event, error));
      } catch (error) {
        this.handlerFailed(label, event, error);
      }
    }
  }

  private handlerFailed(label: string, event: JobEvent, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.logger.warn(
      `${label} failed on the ${event.name} event of job=${event.jobId} execution=${event.executionId} (the run is not affected): ${message}`,
      ...(error instanceof Error && error.stack ? [error.stack] : []),
    );
  }
}
