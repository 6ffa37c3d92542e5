import { intAtLeast } from '../defaults';
import { LimitOverride, SET_LIMIT_INVALID, SET_LIMIT_UNKNOWN, UnknownLimitError } from '../../contracts';
import { JobRegistry } from '../job-registry';
import { AdmissionStore } from '../ports/admission.port';
import { checkId, LimitSpec } from './limit-spec';

/**
 * `jobs.setLimit(nameOrJobId, key, override | null)`: checks the call (a shared limit's name, or a job with its own
 * limits; a valid override), then stores the override where every instance's next admission reads it. Rejects with
 * UnknownLimitError and stores nothing on bad input.
 */
export async function setLimit(
  registry: JobRegistry,
  shared: Map<string, LimitSpec[]>,
  store: AdmissionStore,
  name: string,
  key: string,
  override: LimitOverride | null,
): Promise<void> {
  let scope: 'j' | 'l';
  if (typeof name === 'string' && shared.has(name)) scope = 'l';
  else if (typeof name === 'string' && registry.get(name)?.limits?.some((spec) => spec.scope === 'j')) scope = 'j';
  else throw new UnknownLimitError(SET_LIMIT_UNKNOWN(name));
  const bad = (option: string, value: unknown, expected: string) =>
    new UnknownLimitError(SET_LIMIT_INVALID(name, option, value, expected));
  if (typeof key !== 'string')
    throw bad('key', key, "a string (the tenant id, the key function's value, or \"\" for the key 'job')");
  if (override !== null) {
    if (typeof override !== 'object' || override === undefined)
      throw bad('override', override, '{ rateLimit?, concurrency? } or null');
    for (const part of Object.keys(override)) {
      if (part !== 'rateLimit' && part !== 'concurrency')
        throw bad(part, (override as Record<string, unknown>)[part], 'rateLimit or concurrency');
    }
    const { rateLimit, concurrency } = override;
    if (rateLimit !== undefined && (!intAtLeast(rateLimit?.max, 1) || !intAtLeast(rateLimit?.durationMs, 1))) {
      throw bad('rateLimit', rateLimit, '{ max: n ≥ 1, durationMs: ms ≥ 1 }');
    }
    if (concurrency !== undefined && !intAtLeast(concurrency?.max, 1))
      throw bad('concurrency', concurrency, '{ max: n ≥ 1 }');
  }
  await store.setOverride(checkId(scope, name, key), override);
}
