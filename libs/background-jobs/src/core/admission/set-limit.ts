import { intAtLeast } from '../defaults';
import { LimitOverride, SET_LIMIT_INVALID, SET_LIMIT_UNKNOWN, UnknownLimitError } from '../../contracts';
import { JobRegistry } from '../job-registry';
import { AdmissionStore } from '../ports/admission.port';
import { RunQueue } from '../ports/run-queue.port';
import { checkId, LimitSpec } from './limit-spec';

/** The largest tenant weight `setLimit` takes: n shares of the round robin. */
export const MAX_TENANT_WEIGHT = 1_000;

const PARTS = ['rateLimit', 'concurrency', 'weight'];

/**
 * `jobs.setLimit(nameOrJobId, key, override | null)`: checks the call (a shared limit's name, or a job with its own
 * limits or fairness; a valid override), then stores the override where every instance's next admission reads it,
 * and, for a fair job, the key's weight in its queue's round robin (ordering: the transport's run queue). Rejects
 * with UnknownLimitError and stores nothing on bad input.
 */
export async function setLimit(
  registry: JobRegistry,
  shared: Map<string, LimitSpec[]>,
  store: AdmissionStore,
  runs: RunQueue,
  name: string,
  key: string,
  override: LimitOverride | null,
): Promise<void> {
  const definition = typeof name === 'string' && !shared.has(name) ? registry.get(name) : undefined;
  const ownLimits = definition?.limits?.some((spec) => spec.scope === 'j') ?? false;
  const fair = Boolean(definition?.fairness);
  if (!(typeof name === 'string' && shared.has(name)) && !ownLimits && !fair)
    throw new UnknownLimitError(SET_LIMIT_UNKNOWN(name));
  const bad = (option: string, value: unknown, expected: string) =>
    new UnknownLimitError(SET_LIMIT_INVALID(name, option, value, expected));
  if (typeof key !== 'string')
    throw bad('key', key, "a string (the tenant id, the key function's value, or \"\" for the key 'job')");
  if (override !== null) {
    if (typeof override !== 'object' || override === undefined)
      throw bad('override', override, '{ rateLimit?, concurrency?, weight? } or null');
    for (const part of Object.keys(override)) {
      if (!PARTS.includes(part))
        throw bad(part, (override as Record<string, unknown>)[part], 'rateLimit, concurrency or weight');
    }
    const { rateLimit, concurrency, weight } = override;
    if (rateLimit !== undefined && (!intAtLeast(rateLimit?.max, 1) || !intAtLeast(rateLimit?.durationMs, 1))) {
      throw bad('rateLimit', rateLimit, '{ max: n ≥ 1, durationMs: ms ≥ 1 }');
    }
    if (concurrency !== undefined && !intAtLeast(concurrency?.max, 1))
      throw bad('concurrency', concurrency, '{ max: n ≥ 1 }');
    if (definition && !ownLimits && (rateLimit !== undefined || concurrency !== undefined))
      throw bad(rateLimit !== undefined ? 'rateLimit' : 'concurrency', rateLimit ?? concurrency, NO_OWN_LIMITS);
    if (weight !== undefined) {
      if (!fair) throw bad('weight', weight, NOT_FAIR);
      if (!intAtLeast(weight, 1) || weight > MAX_TENANT_WEIGHT)
        throw bad('weight', weight, `an integer from 1 to ${MAX_TENANT_WEIGHT} (the tenant's shares of the round)`);
      if (key.includes('\u0000')) throw bad('key', key, 'a tenant id (no NUL character)');
    }
  }
  if (!definition || ownLimits) await store.setOverride(checkId(definition ? 'j' : 'l', name, key), override);
  if (definition && fair) {
    // NOTE: an override replaces the key's whole override: a call without weight sets the tenant back to 1 share.
    const weight = override?.weight ?? null;
    await runs.setTenantWeight(definition.queue, key === '' ? null : key, weight === 1 ? null : weight);
  }
}

const NO_OWN_LIMITS =
  'no rateLimit or concurrency part: this job has no rateLimit or concurrency of its own to override (only fairness)';
const NOT_FAIR = "no weight: weight is a fair job's option (@PipelineJob({ fairness: 'tenant' })), keyed by tenant id";
