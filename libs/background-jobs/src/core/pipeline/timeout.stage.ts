import { JOB_TIMED_OUT, JobAbortedError } from '../../contracts';
import { Invocation, PipelineStage } from './pipeline-stage';

/**
 * Aborts the run (`ctx.signal`) after `timeoutMs`, and stops waiting for the body once the run is aborted (timeout,
 * cancel, shutdown, lock loss): a late result is ignored.
 */
export class TimeoutStage implements PipelineStage {
  async run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { controller } = invocation.context;
    const { timeoutMs, id } = invocation.definition;
    const timer =
      timeoutMs > 0
        ? setTimeout(
            () => controller.abort(new JobAbortedError('timeout', JOB_TIMED_OUT(id, timeoutMs))),
            timeoutMs,
          )
        : undefined;
    let stopListening: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      stopListening = controller.onAbort(reject);
    });
    aborted.catch(() => undefined);
    try {
      return await Promise.race([next(), aborted]);
    } finally {
      if (timer) clearTimeout(timer);
      stopListening?.();
    }
  }
}
