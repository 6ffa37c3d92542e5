import { JOB_TIMED_OUT, JobAbortedError } from '../../contracts';
import { Invocation, PipelineStage } from './pipeline-stage';

/**
 * Aborts the run (`ctx.signal`) after `timeoutMs`, and stops waiting for the body once the run is aborted (timeout,
 * cancel, shutdown, lock loss): a late result is ignored.
 */
export class TimeoutStage implements PipelineStage {
  // NOTE: one promise settled by whichever comes first (the body, or an abort) instead of Promise.race over an
  // async function and a second promise: two promises per run instead of five (ADR 0005).
  run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { controller } = invocation.context;
    const { timeoutMs, id } = invocation.definition;
    return new Promise<unknown>((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => controller.abort(new JobAbortedError('timeout', JOB_TIMED_OUT(id, timeoutMs))), timeoutMs)
          : undefined;
      const stopListening = controller.onAbort((reason) => {
        if (timer) clearTimeout(timer);
        reject(reason);
      });
      const settle = (ok: boolean, value: unknown) => {
        if (timer) clearTimeout(timer);
        stopListening();
        if (ok) resolve(value);
        else reject(value as Error);
      };
      next().then(
        (value) => settle(true, value),
        (error: unknown) => settle(false, error),
      );
    });
  }
}
