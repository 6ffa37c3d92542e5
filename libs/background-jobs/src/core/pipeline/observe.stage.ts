import { Logger } from '@nestjs/common';
import { JobEventBase, RateLimitedError } from '../../contracts';
import { JobEvents } from '../job-events';
import { runLabel } from '../run-logger';
import { retryDelayMs } from '../retry-policy';
import { JobRunFailure, RunInterrupted, RunSleeping, SkipRun } from '../run.types';
import { Invocation, PipelineStage } from './pipeline-stage';

/**
 * Tells the job events of every run: `started`, then `completed`, `skipped`, `retrying`, `cancelled` or `failed`
 * with the attempt's duration. Logs, metrics and the host's `@OnJobEvent` methods all listen there. A run
 * interrupted by shutdown is not an outcome (it is handed back and runs again), so it is logged here, not told.
 */
export class ObserveStage implements PipelineStage {
  private readonly logger = new Logger('BackgroundJobs');

  constructor(private readonly events: JobEvents) {}

  // NOTE: one `then` instead of an async function with await: with CLS's async hooks on, every promise costs on
  // every run (ADR 0005). The events of every run are object literals, not spreads of a base object:
  // a fixed shape made in one step (ADR 0005).
  run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { definition, request } = invocation;
    const jobId = definition.id;
    const { executionId, tenantId, attempt } = request;
    const attempts = definition.retry.attempts;
    const started = performance.now();
    this.events.emit({ name: 'started', jobId, executionId, tenantId, attempt, attempts });
    return next().then(
      (result) => {
        const durationMs = performance.now() - started;
        if (result instanceof SkipRun) {
          this.events.emit({
            name: 'skipped',
            jobId,
            executionId,
            tenantId,
            attempt,
            attempts,
            durationMs,
            kind: result.kind,
            reason: result.reason,
          });
        } else
          this.events.emit({ name: 'completed', jobId, executionId, tenantId, attempt, attempts, durationMs, result });
        return result;
      },
      (error: unknown) => this.failed(invocation, { jobId, executionId, tenantId, attempt, attempts }, started, error),
    );
  }

  private failed({ definition, request }: Invocation, base: JobEventBase, started: number, error: unknown): never {
    const durationMs = performance.now() - started;
    if (error instanceof RunInterrupted) {
      this.logger.warn(
        `interrupted ${runLabel(base)} after ${Math.round(durationMs)} ms: ${error.message}; handed back to the queue`,
      );
    } else if (error instanceof RateLimitedError) {
      // NOTE: not an outcome: the admission stage parks the run (no attempt used) and it starts again later.
      this.logger.log(`rate limited ${runLabel(base)}: ${error.message}; parked without using an attempt`);
    } else if (error instanceof RunSleeping) {
      // NOTE: not an outcome: the run is parked until it wakes (no attempt used) and runs again from the top then.
      this.logger.debug(`sleeping ${runLabel(base)}: ${error.message}`);
    } else if (error instanceof JobRunFailure) {
      const failure = {
        kind: error.kind,
        message: error.message,
        error: error.cause,
        unrecognised: error.unrecognised,
      };
      if (error.kind === 'cancelled') this.events.emit({ name: 'cancelled', ...base, durationMs, failure });
      else if (error.retry && request.attempt < base.attempts) {
        this.events.emit({
          name: 'retrying',
          ...base,
          durationMs,
          failure,
          retryDelayMs: retryDelayMs(definition.retry, request.attempt),
        });
      } else this.events.emit({ name: 'failed', ...base, durationMs, failure });
    } else {
      const message = error instanceof Error ? error.message : String(error);
      this.events.emit({
        name: 'failed',
        ...base,
        durationMs,
        failure: { kind: 'transient', message, error, unrecognised: true },
      });
    }
    throw error;
  }
}
