import type * as OtelApi from '@opentelemetry/api';

type Otel = typeof OtelApi;

// NOTE: @opentelemetry/api is an optional peer: loaded once if the host has it, otherwise tracing is skipped.
// `import()`, not a bare `require`: our CommonJS build compiles it to `require`, and an ESM host or test runner that
// runs the source (where `require` is not defined) still finds the package. Once the attempt settled, the result is
// kept as a plain value so the per-run and per-enqueue paths never wait on a promise again (ADR 0005).
let otel: Otel | null | undefined;
let loading: Promise<Otel | null> | undefined;
function api(): Otel | null | Promise<Otel | null> {
  if (otel !== undefined) return otel;
  loading ??= import('@opentelemetry/api').then(
    (loaded) => (otel = loaded),
    () => (otel = null),
  );
  return loading;
}

function inject(o: Otel | null): Record<string, string> | undefined {
  if (!o) return undefined;
  const carrier: Record<string, string> = {};
  o.propagation.inject(o.context.active(), carrier);
  return Object.keys(carrier).length ? carrier : undefined;
}

/**
 * The caller's trace context as propagation headers (W3C `traceparent`, …), or undefined when there is none.
 * A plain value once @opentelemetry/api was looked for (present or not); a promise only on the very first call.
 */
export function captureTraceContext():
  Record<string, string> | undefined | Promise<Record<string, string> | undefined> {
  const o = api();
  return o instanceof Promise ? o.then(inject) : inject(o);
}

/**
 * Runs `fn` in a consumer span `background-job <jobId>` whose parent is the enqueuing caller's trace context, so
 * the run joins the request's trace. Without a stored context `fn` is called directly (no promise of ours);
 * without @opentelemetry/api, likewise.
 */
export function runInTraceContext<T>(
  carrier: Record<string, string> | undefined,
  jobId: string,
  executionId: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (!carrier) return fn();
  const o = api();
  return o instanceof Promise
    ? o.then((loaded) => inSpan(loaded, carrier, jobId, executionId, fn))
    : inSpan(o, carrier, jobId, executionId, fn);
}

function inSpan<T>(
  o: Otel | null,
  carrier: Record<string, string>,
  jobId: string,
  executionId: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (!o) return fn();
  const parent = o.propagation.extract(o.context.active(), carrier);
  const tracer = o.trace.getTracer('nestjs-background-jobs');
  return tracer.startActiveSpan(
    `background-job ${jobId}`,
    {
      kind: o.SpanKind.CONSUMER,
      attributes: { 'background_jobs.job_id': jobId, 'background_jobs.execution_id': executionId },
    },
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
