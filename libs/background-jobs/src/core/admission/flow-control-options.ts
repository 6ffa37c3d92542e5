import {
  CONCURRENCY_TWICE,
  ConcurrencyOptions,
  INVALID_LIMIT_OPTION,
  JobDefinitionError,
  LimitKey,
  RateLimitOptions,
  SharedLimitOptions,
  UNKNOWN_SHARED_LIMIT,
} from '../../contracts';
import { intAtLeast } from '../defaults';
import { LimitSpec } from './limit-spec';
import { rejectUnknownKeys } from '../options/unknown-keys';

// NOTE: small, separate checks so the module's one option resolver can call them: each throws a JobDefinitionError
// naming the owner (job or shared limit), the option, its value and the fix.

const LIMIT_NAME = /^[a-z0-9][a-z0-9:._-]*$/;
const RATE_KEYS = new Set(['max', 'durationMs', 'key']);
const CONCURRENCY_KEYS = new Set(['max', 'key']);
const SHARED_KEYS = new Set(['rateLimit', 'concurrency']);
const KEY_TEXT = "'job', 'tenant' or a function ({ data, tenantId }) => string";

const fail = (owner: string, option: string, value: unknown, expected: string): never => {
  throw new JobDefinitionError(INVALID_LIMIT_OPTION(owner, option, value, expected));
};

function checkKey(owner: string, option: string, key: unknown): LimitKey {
  if (key === undefined) return 'job';
  if (key === 'job' || key === 'tenant' || typeof key === 'function') return key as LimitKey;
  return fail(owner, `${option}.key`, key, KEY_TEXT);
}

function checkKeys(owner: string, option: string, value: object, known: Set<string>): void {
  const list = [...known];
  rejectUnknownKeys(
    value,
    list,
    (key, found) =>
      new JobDefinitionError(INVALID_LIMIT_OPTION(owner, `${option}.${key}`, found, `one of ${list.join(', ')}`)),
  );
}

/** `rateLimit` and `concurrency` of a job (`scope` j, named by its id) or of a shared limit (`scope` l). */
export function limitSpecs(
  owner: string,
  scope: 'j' | 'l',
  name: string,
  options: { rateLimit?: RateLimitOptions; concurrency?: ConcurrencyOptions },
): LimitSpec[] {
  const specs: LimitSpec[] = [];
  const rate = options.rateLimit as unknown;
  if (rate !== undefined) {
    const text = '{ max: n ≥ 1, durationMs: ms ≥ 1, key? }';
    if (typeof rate !== 'object' || rate === null) fail(owner, 'rateLimit', rate, text);
    const limit = rate as RateLimitOptions;
    checkKeys(owner, 'rateLimit', limit, RATE_KEYS);
    if (!intAtLeast(limit.max, 1)) fail(owner, 'rateLimit.max', limit.max, 'an integer ≥ 1');
    if (!intAtLeast(limit.durationMs, 1)) fail(owner, 'rateLimit.durationMs', limit.durationMs, 'an integer ≥ 1 (ms)');
    const key = checkKey(owner, 'rateLimit', limit.key);
    specs.push({ scope, name, kind: 'rate', max: limit.max, durationMs: limit.durationMs, key });
  }
  const concurrency = options.concurrency as unknown;
  if (concurrency !== undefined) {
    if (typeof concurrency !== 'object' || concurrency === null)
      fail(owner, 'concurrency', concurrency, '{ max: n ≥ 1, key? }');
    const limit = concurrency as ConcurrencyOptions;
    checkKeys(owner, 'concurrency', limit, CONCURRENCY_KEYS);
    if (!intAtLeast(limit.max, 1)) fail(owner, 'concurrency.max', limit.max, 'an integer ≥ 1');
    specs.push({ scope, name, kind: 'concurrency', max: limit.max, key: checkKey(owner, 'concurrency', limit.key) });
  }
  return specs;
}

/** `forRoot({ limits })` checked: each shared limit's parts, by name. */
export function resolveSharedLimits(limits: unknown): Map<string, LimitSpec[]> {
  const resolved = new Map<string, LimitSpec[]>();
  if (limits === undefined) return resolved;
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) {
    return fail('BackgroundJobsModule.forRoot', 'limits', limits, 'an object { [name]: { rateLimit?, concurrency? } }');
  }
  for (const [name, options] of Object.entries(limits as Record<string, SharedLimitOptions>)) {
    const owner = `Shared limit "${name}" of forRoot({ limits })`;
    if (!LIMIT_NAME.test(name)) fail(owner, 'name', name, `a name matching ${LIMIT_NAME}`);
    if (typeof options !== 'object' || options === null)
      fail(owner, 'options', options, '{ rateLimit?, concurrency? }');
    checkKeys(owner, 'limits', options, SHARED_KEYS);
    const specs = limitSpecs(owner, 'l', name, options);
    if (specs.length === 0) fail(owner, 'options', options, 'at least one of rateLimit, concurrency');
    resolved.set(name, specs);
  }
  return resolved;
}

/**
 * A job's limits in the order they are checked: its own `rateLimit` and `concurrency` (with `fairness`'s
 * `concurrencyPerTenant: n` as `concurrency: { max: n, key: 'tenant' }`: the same limit), then its shared `limits`.
 */
export function resolveJobLimits(
  id: string,
  className: string,
  options: { rateLimit?: RateLimitOptions; concurrency?: ConcurrencyOptions; limits?: string[] },
  shared: Map<string, LimitSpec[]>,
  concurrencyPerTenant: number | undefined,
): LimitSpec[] | undefined {
  const owner = `Job "${id}" (class ${className})`;
  const specs = limitSpecs(owner, 'j', id, options);
  if (concurrencyPerTenant !== undefined) {
    if (options.concurrency !== undefined) throw new JobDefinitionError(CONCURRENCY_TWICE(id, className));
    specs.push({ scope: 'j', name: id, kind: 'concurrency', max: concurrencyPerTenant, key: 'tenant' });
  }
  const names = options.limits as unknown;
  if (names !== undefined) {
    if (!Array.isArray(names)) fail(owner, 'limits', names, 'an array of names of forRoot({ limits })');
    for (const name of new Set(names as unknown[])) {
      const limit = typeof name === 'string' ? shared.get(name) : undefined;
      if (!limit) throw new JobDefinitionError(UNKNOWN_SHARED_LIMIT(id, className, name, [...shared.keys()]));
      specs.push(...limit);
    }
  }
  return specs.length > 0 ? specs : undefined;
}
