import { FailureKind, JobState } from '../contracts';
import { BackgroundJobs, JobRegistry } from '../core';

import { FAILURE_KINDS as KINDS, JOB_STATES as STATES } from './operations.constants';

/** The window `failures` covers. */
export const FAILURE_WINDOW_MS = 60 * 60 * 1000;

/** What `GET overview` answers: the dashboard's first page. */
export interface OperationsOverview {
  /** When the counts were taken. */
  generatedAt: Date;
  /** Runs by state, per queue (every queue of a registered job, also when empty). */
  queues: Array<{ queue: string; counts: Record<JobState, number> }>;
  /** Failed and cancelled runs that finished in the last hour, by failure kind. */
  failures: { since: Date; total: number; byKind: Record<FailureKind, number> };
}

/**
 * Counts the runs the transport lists (history retention and its scan limit bound them, as for `GET executions`)
 * by queue and state, and the last hour's failures by kind.
 */
export async function buildOverview(
  jobs: BackgroundJobs,
  registry: JobRegistry,
  now = new Date(),
): Promise<OperationsOverview> {
  const zero = <K extends string>(keys: readonly K[]): Record<K, number> =>
    Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
  const queues = new Map(registry.queues().map((queue) => [queue, zero(STATES)]));
  const since = new Date(now.getTime() - FAILURE_WINDOW_MS);
  const byKind = zero(KINDS);
  let total = 0;
  const { items } = await jobs.listExecutions({ offset: 0, limit: Number.MAX_SAFE_INTEGER });
  for (const execution of items) {
    const queue = registry.get(execution.jobId)?.queue;
    if (queue === undefined) continue;
    const counts = queues.get(queue) ?? zero(STATES);
    queues.set(queue, counts);
    counts[execution.state] += 1;
    if (execution.failure && execution.finishedAt && execution.finishedAt >= since) {
      byKind[execution.failure.kind] = (byKind[execution.failure.kind] ?? 0) + 1;
      total += 1;
    }
  }
  return {
    generatedAt: now,
    queues: [...queues].map(([queue, counts]) => ({ queue, counts })),
    failures: { since, total, byKind },
  };
}
