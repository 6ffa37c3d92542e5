import { Logger } from '@nestjs/common';
import { JobRunFailure, RunInterrupted, SkipRun } from '../run.types';
import { Invocation, PipelineStage } from './pipeline-stage';

/** Logs start, outcome and duration of every run with its job id and execution id. */
export class ObserveStage implements PipelineStage {
  private readonly logger = new Logger('BackgroundJobs');

  async run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { definition, request } = invocation;
    const label = `job=${definition.id} execution=${request.executionId} attempt=${request.attempt}` +
      (request.tenantId === null ? '' : ` tenant=${request.tenantId}`);
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
        const verb = error.retry && request.attempt < definition.retry.attempts ? 'will retry' : 'failed';
        this.logger.error(`${verb} ${label} in ${ms} ms [${error.kind}]: ${error.message}`);
      } else {
        this.logger.error(`failed ${label} in ${ms} ms: ${String(error)}`);
      }
      throw error;
    }
  }
}
