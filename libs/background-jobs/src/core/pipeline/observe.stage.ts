import { Logger } from '@nestjs/common';
import { JobRunFailure, RunInterrupted, SkipRun } from '../run.types';
import { Invocation, PipelineStage } from './pipeline-stage';

/** Logs start, outcome and duration of every run with its job id and execution id. */
export class ObserveStage implements PipelineStage {
  private readonly logger = new Logger('BackgroundJobs');

  // NOTE: one `then` instead of an async function with await: with CLS's async hooks on, every promise costs on
  // every run (bench/README.md, fix 9).
  run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { definition, request } = invocation;
    const label = `job=${definition.id} execution=${request.executionId} attempt=${request.attempt}` +
      (request.tenantId === null ? '' : ` tenant=${request.tenantId}`);
    const started = performance.now();
    this.logger.debug(`started ${label}`);
    return next().then(
      (result) => {
        const ms = Math.round(performance.now() - started);
        if (result instanceof SkipRun) this.logger.log(`skipped ${label} in ${ms} ms: ${result.reason}`);
        else this.logger.debug(`completed ${label} in ${ms} ms`);
        return result;
      },
      (error: unknown) => this.failed(definition, request, label, started, error),
    );
  }

  private failed(definition: Invocation['definition'], request: Invocation['request'], label: string, started: number, error: unknown): never {
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
