import { DEDUPE_TWICE, DedupeOptions, EnqueueOptions, INVALID_DEDUPE, InvalidJobInputError } from '../../contracts';
import { DEDUPE_OPTION_KEYS, integerFrom, OPTION_RULES, rejectUnknownKeys } from '../options';

const positiveInteger = integerFrom(1);

/**
 * The run's dedupe, checked: `dedupe` as given, or `dedupeKey` as `until-started`; undefined without either. Throws
 * InvalidJobInputError naming the job, the value and the fix, before anything is enqueued.
 */
export function dedupeOf(jobId: string, options: EnqueueOptions, maxKeyLength: number): DedupeOptions | undefined {
  const { dedupe, dedupeKey } = options;
  const fail = (option: string, value: unknown, expected: string) =>
    new InvalidJobInputError(INVALID_DEDUPE(jobId, option, value, expected));
  const keyExpected = `a non-empty string of at most ${maxKeyLength} characters (bounds.maxDedupeKeyLength)`;
  const validKey = (key: unknown): key is string =>
    typeof key === 'string' && key.length > 0 && key.length <= maxKeyLength;
  if (dedupe === undefined) {
    if (dedupeKey === undefined) return undefined;
    if (!validKey(dedupeKey)) throw fail('dedupeKey', dedupeKey, keyExpected);
    return { key: dedupeKey, mode: 'until-started' };
  }
  if (dedupeKey !== undefined) throw new InvalidJobInputError(DEDUPE_TWICE(jobId, dedupeKey));
  if (typeof dedupe !== 'object' || dedupe === null) throw fail('dedupe', dedupe, '{ key, mode, ttlMs? }');
  rejectUnknownKeys(dedupe, DEDUPE_OPTION_KEYS, (key, value, known) =>
    fail(`dedupe.${key}`, value, `only the keys ${known.join(', ')}`),
  );
  if (!validKey(dedupe.key)) throw fail('dedupe.key', dedupe.key, keyExpected);
  const modeRule = OPTION_RULES['dedupe.mode'];
  if (!modeRule.valid(dedupe.mode)) throw fail('dedupe.mode', dedupe.mode, modeRule.expected);
  const windowed = dedupe.mode === 'debounce' || dedupe.mode === 'throttle';
  if (windowed && !positiveInteger(dedupe.ttlMs)) {
    throw fail('dedupe.ttlMs', dedupe.ttlMs, `a positive integer (ms) for mode '${dedupe.mode}'`);
  }
  if (!windowed && dedupe.ttlMs !== undefined) {
    throw fail(
      'dedupe.ttlMs',
      dedupe.ttlMs,
      `no ttlMs for mode '${dedupe.mode}' (only debounce and throttle take one)`,
    );
  }
  return windowed
    ? { key: dedupe.key, mode: dedupe.mode, ttlMs: dedupe.ttlMs }
    : { key: dedupe.key, mode: dedupe.mode };
}
