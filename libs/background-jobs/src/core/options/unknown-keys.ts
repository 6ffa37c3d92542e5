/**
 * The one unknown-key check (module options, job options, schedule options, query parameters): an unknown key is
 * an error, never ignored. `fail` builds the caller's error from the first unknown key, its value and the keys
 * accepted.
 */
export function rejectUnknownKeys(
  value: object,
  known: readonly string[],
  fail: (key: string, value: unknown, known: readonly string[]) => Error,
): void {
  const unknown = Object.keys(value).find((key) => !known.includes(key));
  if (unknown !== undefined) throw fail(unknown, (value as Record<string, unknown>)[unknown], known);
}

/**
 * The keys of an options interface, listed once: `Record<keyof T, true>` makes the compiler require an entry for
 * every option of `T`, so a new option is accepted by the unknown-key check as soon as it is declared.
 */
export const keysOf = <T>(entries: Record<keyof T, true>): readonly string[] => Object.keys(entries);
