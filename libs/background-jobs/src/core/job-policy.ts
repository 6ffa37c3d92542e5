import { OptionRule } from './options/option-rule';
import { OPTION_RULES } from './options/option-rules';

/** Retry, timeout and history of a job, as the module's `defaults` and a job's own options give them. */
export interface JobPolicy {
  retry: { attempts: unknown; backoffMs: unknown };
  timeoutMs: unknown;
  history: Record<'completed' | 'failed', { count: unknown; maxAgeSeconds: unknown }>;
}

/** What is wrong with a policy: the option's path, its value and what was expected. */
export interface PolicyProblem {
  option: string;
  value: unknown;
  expected: string;
}

/** The one set of integer checks for retry, timeout and history, of `defaults` and of each job alike. */
export function jobPolicyProblem(policy: JobPolicy): PolicyProblem | undefined {
  const checks: Array<[string, unknown, OptionRule]> = [
    ['retry.attempts', policy.retry.attempts, OPTION_RULES['retry.attempts']],
    ['retry.backoffMs', policy.retry.backoffMs, OPTION_RULES['retry.backoffMs']],
    ['timeoutMs', policy.timeoutMs, OPTION_RULES.timeoutMs],
  ];
  for (const kind of ['completed', 'failed'] as const) {
    checks.push([`history.${kind}.count`, policy.history[kind].count, OPTION_RULES['history.count']]);
    checks.push([
      `history.${kind}.maxAgeSeconds`,
      policy.history[kind].maxAgeSeconds,
      OPTION_RULES['history.maxAgeSeconds'],
    ]);
  }
  for (const [option, value, rule] of checks) {
    // NOTE: resolved values: an absent one has been given its default already, so undefined is a problem here.
    if (!rule.valid(value)) return { option, value, expected: rule.expected };
  }
  return undefined;
}
