import { INVALID_MODULE_OPTION, InputBounds, JobDefinitionError } from '../contracts';
import { DEFAULTS, intAtLeast } from './defaults';
import { rejectUnknownKeys } from './options/unknown-keys';

/** `bounds` with every default applied. */
export type ResolvedBounds = Required<InputBounds>;

const BOUND_KEYS = Object.keys(DEFAULTS.bounds) as (keyof ResolvedBounds)[];

/** Applies the defaults of `bounds` and checks each is a positive integer; an unknown key stops the boot. */
export function resolveBounds(raw: InputBounds | undefined): ResolvedBounds {
  if (raw === undefined) return { ...DEFAULTS.bounds };
  if (typeof raw !== 'object' || raw === null)
    throw new JobDefinitionError(
      INVALID_MODULE_OPTION('bounds', raw, `an object with any of ${BOUND_KEYS.join(', ')}`),
    );
  rejectUnknownKeys(
    raw,
    BOUND_KEYS,
    (key, value, known) =>
      new JobDefinitionError(INVALID_MODULE_OPTION(`bounds.${key}`, value, `one of ${known.join(', ')}`)),
  );
  const resolved = { ...DEFAULTS.bounds, ...raw } as ResolvedBounds;
  for (const key of BOUND_KEYS) {
    if (!intAtLeast(resolved[key], 1))
      throw new JobDefinitionError(INVALID_MODULE_OPTION(`bounds.${key}`, resolved[key], 'a positive integer'));
  }
  return resolved;
}

/**
 * A run's `ctx.log` within `bounds`: a line past `maxLogLineLength` is cut with a note of how much; past
 * `maxLogLines` one note says further lines are dropped, and they are.
 */
export function boundedLog(
  write: (line: string) => Promise<void>,
  bounds: Pick<ResolvedBounds, 'maxLogLineLength' | 'maxLogLines'>,
): (message: string) => Promise<void> {
  let written = 0;
  return (message: string) => {
    if (written > bounds.maxLogLines) return Promise.resolve();
    written += 1;
    if (written > bounds.maxLogLines)
      return write(`[log limit: ${bounds.maxLogLines} lines per attempt (bounds.maxLogLines); further lines dropped]`);
    if (message.length <= bounds.maxLogLineLength) return write(message);
    const cut = message.length - bounds.maxLogLineLength;
    return write(`${message.slice(0, bounds.maxLogLineLength)}… [${cut} characters cut (bounds.maxLogLineLength)]`);
  };
}
