import { intAtLeast } from '../defaults';

/** Builds the caller's error for a bad option: its path, the value given and what was expected. */
export type OptionFailure = (option: string, value: unknown, expected: string) => Error;

/** How one option is checked: what a valid value is, in code and in the words of the error message. */
export interface OptionRule<T = unknown> {
  readonly expected: string;
  readonly valid: (value: unknown) => value is T;
}

/** A rule from the words of its message and its check. */
export const rule = <T>(expected: string, valid: (value: unknown) => boolean): OptionRule<T> => ({
  expected,
  valid: valid as (value: unknown) => value is T,
});

/** A check that accepts exactly `values`. */
export const oneOf =
  <T extends string>(...values: T[]) =>
  (value: unknown): value is T =>
    values.includes(value as T);

/** A check for an integer of at least `min`. */
export const integerFrom =
  (min: number) =>
  (value: unknown): value is number =>
    intAtLeast(value, min);

/**
 * The one resolution of an option, for job definitions, schedules and module options alike: the value given, or
 * `fallback` when it is absent (`undefined` or `null`), checked against `rule`; `fail` builds the caller's error.
 */
export function resolveOption<T>(
  rule: OptionRule<T>,
  option: string,
  value: unknown,
  fallback: T,
  fail: OptionFailure,
): T {
  const resolved = value ?? fallback;
  if (!rule.valid(resolved)) throw fail(option, resolved, rule.expected);
  return resolved;
}

/** The problem with an option, or undefined when it is absent or valid (for checks that report, not throw). */
export function optionProblem(
  rule: OptionRule,
  option: string,
  value: unknown,
): { option: string; value: unknown; expected: string } | undefined {
  return value === undefined || rule.valid(value) ? undefined : { option, value, expected: rule.expected };
}
