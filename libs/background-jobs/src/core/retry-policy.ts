import { JobDefinition } from './job-definition';

/**
 * How long a run waits before its next attempt after `failedAttempts` failed ones: exponential from the job's
 * `retry.backoffMs` (backoffMs, 2 × backoffMs, 4 × backoffMs, …). The one formula both transports use.
 */
export function retryDelayMs(retry: Pick<JobDefinition['retry'], 'backoffMs'>, failedAttempts: number): number {
  return Math.round(2 ** (failedAttempts - 1) * retry.backoffMs);
}
