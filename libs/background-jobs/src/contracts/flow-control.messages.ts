/* Message factories of flow control (rate limits, concurrency keys, shared limits); tests import these. */

const show = (value: unknown): string => {
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

export const INVALID_LIMIT_OPTION = (owner: string, option: string, value: unknown, expected: string): string =>
  `${owner} has invalid ${option} ${show(value)}: expected ${expected}. ` +
  `Fix: e.g. rateLimit: { max: 5, durationMs: 1000, key: 'tenant' } or concurrency: { max: 2, key: 'job' }.`;

export const UNKNOWN_SHARED_LIMIT = (jobId: string, className: string, name: unknown, known: string[]): string =>
  `Job "${jobId}" (class ${className}) counts against unknown limit ${show(name)} (limits: ${
    known.length ? known.map((k) => JSON.stringify(k)).join(', ') : 'none'
  }). Fix: declare it in BackgroundJobsModule.forRoot({ limits: { ${show(name)}: { rateLimit, concurrency } } }).`;

export const CONCURRENCY_TWICE = (jobId: string, className: string): string =>
  `Job "${jobId}" (class ${className}) sets both fairness.concurrencyPerTenant and concurrency; they are the same ` +
  `limit. Fix: keep concurrency: { max: n, key: 'tenant' } and drop fairness.concurrencyPerTenant.`;

export const SET_LIMIT_UNKNOWN = (name: unknown): string =>
  `setLimit(${show(name)}, …): no shared limit and no job with a rateLimit, concurrency or fairness has this name; ` +
  `nothing was stored. Fix: name a limit of forRoot({ limits }) or a job id whose @PipelineJob sets rateLimit, ` +
  `concurrency or fairness.`;

export const SET_LIMIT_INVALID = (name: string, option: string, value: unknown, expected: string): string =>
  `setLimit("${name}", …) has invalid ${option} ${show(value)}: expected ${expected}; nothing was stored. ` +
  `Fix: e.g. setLimit("${name}", "acme", { rateLimit: { max: 50, durationMs: 1000 } }), or null for the default.`;

export const LIMIT_KEY_FAILED = (jobId: string, limit: string, error: string): string =>
  `Job "${jobId}": the key function of limit "${limit}" threw or returned no string (${error}). ` +
  `Fix: return a string key for every payload, e.g. ({ data }) => String(data.apiKey).`;

export const INVALID_DEDUPE = (jobId: string, option: string, value: unknown, expected: string): string =>
  `enqueue("${jobId}") got invalid ${option} ${show(value)}: expected ${expected}. Nothing was enqueued. ` +
  `Fix: e.g. dedupe: { key: 'user-7', mode: 'debounce', ttlMs: 5000 } or { key: 'user-7', mode: 'until-finished' }.`;

export const DEDUPE_TWICE = (jobId: string, dedupeKey: unknown): string =>
  `enqueue("${jobId}") got both dedupeKey ${show(dedupeKey)} and dedupe; they are the same option. Nothing was ` +
  `enqueued. Fix: pass only dedupe (dedupeKey: k is dedupe: { key: k, mode: 'until-started' }).`;
