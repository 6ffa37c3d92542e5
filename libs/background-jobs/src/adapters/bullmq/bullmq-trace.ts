import type * as OtelApi from '@opentelemetry/api';

// NOTE: @opentelemetry/api is an optional peer: loaded once if the host has it, otherwise tracing is skipped.
// `import()`, not a bare `require`: our CommonJS build compiles it to `require`, and an ESM host or test runner that
// runs the source (where `require` is not defined) still finds the package.
let otel: Promise<typeof OtelApi | null> | undefined;
function api(): Promise<typeof OtelApi | null> {
  otel ??= import('@opentelemetry/api').then(
    (loaded) => loaded,
    () => null,
  );
  return otel;
}

/** The caller's trace context as propagation headers (W3C `traceparent`, …), or undefined when there is none. */
export async function captureTraceContext(): Promise<Record<string, string> | undefined> {
  const o = await api();
  if (!o) return undefined;
  const carrier: Record<string, string> = {};
  o.propagation.inject(o.context.active(), carrier);
  return Object.keys(carrier).length ? carrier : undefined;
}

/**
 * Runs `fn` in a consumer span `background-job <jobId>` whose parent is the enqueuing caller's trace context, so
 * the run joins the request's trace. Without @opentelemetry/api (or a stored context), just runs `fn`.
 */
export async function runInTraceContext<T>(carrier: Record<string, string> | undefined, jobId: string, executionId: string, fn: () => Promise<T>): Promise<T> {
  const o = await api();
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
