import { JobAbortedError } from '../../contracts';
import { Invocation, PipelineStage } from './pipeline-stage';

/**
 * Ties the run's signal to the transport's (cancel, shutdown) and to `timeoutMs`, and stops waiting for the
 * body once the signal aborts: a late result is ignored.
 */
export class TimeoutStage implements PipelineStage {
  async run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { controller } = invocation.context;
    // NOTE: no link needed when the transport handed over its own controller (see RunRequest.controller).
    const external = invocation.request.signal === controller.signal ? undefined : invocation.request.signal;
    const { timeoutMs, id } = invocation.definition;
    const abortFromExternal = () => controller.abort(external?.reason);
    if (external?.aborted) abortFromExternal();
    else external?.addEventListener('abort', abortFromExternal, { once: true });
    const timer =
      timeoutMs > 0
        ? setTimeout(
            () => controller.abort(new JobAbortedError('timeout', `Job "${id}" exceeded its timeout of ${timeoutMs} ms.`)),
            timeoutMs,
          )
        : undefined;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(controller.signal.reason);
      if (controller.signal.aborted) onAbort();
      else controller.signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      return await Promise.race([next(), aborted]);
    } finally {
      if (timer) clearTimeout(timer);
      external?.removeEventListener('abort', abortFromExternal);
      if (onAbort) controller.signal.removeEventListener('abort', onAbort);
    }
  }
}
