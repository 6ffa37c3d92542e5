import type * as OtelApi from '@opentelemetry/api';

// NOTE: @opentelemetry/api is an optional peer: loaded once if the host has it, otherwise tracing is skipped.
let otel: typeof OtelApi | null | undefined;
function api(): typeof OtelApi | null {
  if (otel === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      otel = require('@opentelemetry/api') as typeof OtelApi;
    } catch {
      otel = null;
    }
  }
  return otel;
}

/** The caller's trace context as propagation headers (W3C `traceparent`, …), or undefined when there is none. */
export function captureTraceContext(): Record<string, string> | undefined {
  const o = api();
  if (!o) return undefined;
  const carrier: Record<string, string> = {};
  o.propagation.inject(o.context.active(), carrier);
  return Object.keys(carrier).length ? carrier : undefined;
}

/**
 * Runs `fn` in a consumer span `background-job <jobId>` whose parent is the enqueuing caller's trace context, so
 * the run joins the request's trace. Without @opentelemetry/api (or a stored context), just runs `fn`.
 */
export function runInTraceContext<T>(carrier: Record<string, string> | undefined, jobId: string, executionId: string, fn: () => Promise<T>): Promise<T> {
  const o = api();
  if (!o || !carrier) return fn();
  const parent = o.propagation.extract(o.context.active(), carrier);
  const tracer = o.trace.getTracer('nestjs-background-jobs');
  return tracer.startActiveSpan(
    `background-job ${jobId}`,
    { kind: o.SpanKind.CONSUMER, attributes: { 'background_jobs.job_id': jobId, 'background_jobs.execution_id': executionId } },
    parent,
    async (span) => {
      try {
        return await fn();
      } catch (error) {
        span.setStatus({ code: o.SpanStatusCode.ERROR, message: (error as Error)?.message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
