import { intAtLeast } from './defaults';

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
  const checks: Array<[string, unknown, number, string]> = [
    ['retry.attempts', policy.retry.attempts, 1, 'an integer ≥ 1'],
    ['retry.backoffMs', policy.retry.backoffMs, 0, 'an integer ≥ 0'],
    ['timeoutMs', policy.timeoutMs, 0, 'an integer ≥ 0 (0: no timeout)'],
  ];
  for (const kind of ['completed', 'failed'] as const) {
    checks.push([`history.${kind}.count`, policy.history[kind].count, 0, 'an integer ≥ 0']);
    checks.push([`history.${kind}.maxAgeSeconds`, policy.history[kind].maxAgeSeconds, 1, 'an integer ≥ 1']);
  }
  for (const [option, value, min, expected] of checks) {
    if (!intAtLeast(value, min)) return { option, value, expected };
  }
  return undefined;
}
