import { JobWaiting, LimitKey } from '../../contracts';

/**
 * One limit a job counts against, resolved at boot: its own `rateLimit` or `concurrency` (scope `j`, named by the job
 * id), or one part of a shared limit (scope `l`, named by the limit).
 */
export interface LimitSpec {
  readonly scope: 'j' | 'l';
  readonly name: string;
  readonly kind: 'rate' | 'concurrency';
  readonly max: number;
  /** The window of a rate limit. */
  readonly durationMs?: number;
  readonly key: LimitKey;
}

/**
 * One limit a run counts against, with its key worked out for that run: what the admission store checks.
 * `id` names (limit, key) in the store (`j|<jobId>|<key>` or `l|<name>|<key>`; `|` occurs in no job id or limit name),
 * and is what `setLimit` overrides.
 */
export interface AdmissionCheck {
  readonly id: string;
  readonly limit: string;
  /** The key's value: '' for the key `'job'` and for host-level runs keyed by tenant. */
  readonly key: string;
  readonly kind: 'rate' | 'concurrency';
  readonly max: number;
  readonly durationMs?: number;
}

/** The store's id of a (limit, key) pair. */
export const checkId = (scope: 'j' | 'l', name: string, key: string): string => `${scope}|${name}|${key}`;

/**
 * How a refused check is told in `JobExecution.waiting`: a refusal with a time (a full window, or a key held back by
 * RateLimitedError) is a rate limit; one without waits for a slot.
 */
export function waitingOf(check: AdmissionCheck, until?: Date): JobWaiting {
  const reason = check.kind === 'rate' || until ? 'rate-limit' : 'concurrency';
  const waiting: JobWaiting = { reason, limit: check.limit };
  if (check.key !== '') waiting.key = check.key;
  if (until) waiting.until = until;
  return waiting;
}
