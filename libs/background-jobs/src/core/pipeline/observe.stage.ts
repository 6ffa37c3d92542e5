import { Logger } from '@nestjs/common';
import { retryDelayMs } from '../job-definition';
import { JobRunFailure, RunInterrupted, SkipRun } from '../run.types';
import { Invocation, PipelineStage } from './pipeline-stage';

/**
 * Logs start, outcome and duration of every run, each line with the same key=value fields (job, execution, tenant,
 * attempt, and kind for failures), so one grep follows a run. The one place a run's failure is logged: the stack goes
 * with permanent and unrecognised errors, once per failed attempt.
 */
export class ObserveStage implements PipelineStage {
  private readonly logger = new Logger('BackgroundJobs');

  async run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { definition, request } = invocation;
    const attempts = definition.retry.attempts;
    const label = `job=${definition.id} execution=${request.executionId} tenant=${request.tenantId ?? 'null'} attempt=${request.attempt}/${attempts}`;
    const started = performance.now();
    this.logger.debug(`started ${label}`);
    try {
      const result = await next();
      const ms = Math.round(performance.now() - started);
      if (result instanceof SkipRun) this.logger.log(`skipped ${label} in ${ms} ms: ${result.reason}`);
      else this.logger.debug(`completed ${label} in ${ms} ms`);
      return result;
    } catch (error) {
      const ms = Math.round(performance.now() - started);
      if (error instanceof RunInterrupted) {
        this.logger.warn(`interrupted ${label} after ${ms} ms: ${error.message}; handed back to the queue`);
      } else if (error instanceof JobRunFailure) {
        const failed = `${label} kind=${error.kind}`;
        const stack = error.kind === 'permanent' || error.unrecognised ? stackOf(error.cause) : undefined;
        const extra = stack === undefined ? [] : [stack];
        if (error.kind === 'cancelled') {
          // NOTE: a cancel is someone's decision, not a fault: LOG, so it does not page anyone.
          this.logger.log(`cancelled ${failed} after ${ms} ms: ${error.message}`);
        } else if (error.retry && request.attempt < attempts) {
          const delay = retryDelayMs(definition, request.attempt);
          this.logger.warn(`retrying ${failed}: failed after ${ms} ms, next attempt in ${delay} ms: ${error.message}`, ...extra);
        } else {
          this.logger.error(`failed ${failed} after ${ms} ms: ${error.message}`, ...extra);
        }
      } else {
        this.logger.error(`failed ${label} after ${ms} ms: ${String(error)}`, stackOf(error));
      }
      throw error;
    }
  }
}

function stackOf(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}
