import { Job, JobsOptions, JobType } from 'bullmq';
import { JobExecution, JobState } from '../../contracts';
import { stepList } from '../../core';
import { isEnvelope, ResultEnvelope } from './bullmq-envelope';

export const ALL_STATES: JobState[] = ['pending', 'delayed', 'running', 'completed', 'failed', 'cancelled', 'skipped'];

/** BullMQ lists holding runs of each framework state. */
export const BULL_TYPES_OF: Record<JobState, JobType[]> = {
  pending: ['waiting', 'prioritized', 'waiting-children'],
  delayed: ['delayed'],
  running: ['active'],
  completed: ['completed'],
  skipped: ['completed'],
  failed: ['failed'],
  cancelled: ['failed'],
};

/** A BullMQ job, in the BullMQ state it was read in, as the framework's execution snapshot. */
export function toExecution(job: Job, bullState: string): JobExecution {
  const envelope = isEnvelope(job.data) ? job.data : undefined;
  const result = job.returnvalue as ResultEnvelope | null | undefined;
  let state: JobState;
  switch (bullState) {
    case 'completed':
      state = result?.outcome === 'skipped' ? 'skipped' : 'completed';
      break;
    case 'failed':
      state = envelope?.failure?.kind === 'cancelled' ? 'cancelled' : 'failed';
      break;
    case 'active':
      state = 'running';
      break;
    case 'delayed':
      state = 'delayed';
      break;
    default:
      state = 'pending';
  }
  const execution: JobExecution = {
    executionId: job.id as string,
    jobId: job.name,
    tenantId: envelope?.tenantId ?? null,
    state,
    attempts: job.attemptsStarted ?? job.attemptsMade,
    data: envelope ? envelope.payload : job.data,
    createdAt: new Date(job.timestamp),
  };
  if (state === 'completed' && result?.outcome === 'completed') execution.result = result.value;
  if (state === 'skipped' && result?.outcome === 'skipped') execution.skipReason = result.reason;
  if (state === 'failed' || state === 'cancelled') {
    execution.failure = envelope?.failure ?? { kind: 'transient', message: job.failedReason };
  }
  if (typeof job.progress === 'number') execution.progress = job.progress;
  if (job.processedOn) execution.startedAt = new Date(job.processedOn);
  if (job.finishedOn) execution.finishedAt = new Date(job.finishedOn);
  const scheduledAt = scheduledAtOf(job);
  if (scheduledAt) execution.scheduledAt = scheduledAt;
  const steps = stepList(envelope?.steps);
  if (steps) execution.steps = steps;
  if (envelope?.after) [execution.after, execution.onDependencyFailure] = [envelope.after, envelope.onDep ?? 'cancel'];
  const waiting = envelope?.waiting;
  if (waiting && (state === 'delayed' || state === 'pending')) {
    const { reason, limit, key, until } = waiting;
    execution.waiting = { reason };
    if (limit !== undefined) execution.waiting.limit = limit;
    if (key !== undefined) execution.waiting.key = key;
    if (until !== undefined) execution.waiting.until = new Date(until);
  }
  return execution;
}

/** The tick a scheduler job was made for (`prevMillis`), or the time a delayed job was due. */
export function scheduledAtOf(job: Job): Date | undefined {
  const opts = job.opts as JobsOptions & { prevMillis?: number };
  if (typeof opts.prevMillis === 'number') return new Date(opts.prevMillis);
  if (opts.delay) return new Date(job.timestamp + opts.delay);
  return undefined;
}

/** A cancelled run's tombstone (JSON), with its dates revived. */
export function reviveExecution(json: string): JobExecution {
  const raw = JSON.parse(json) as JobExecution & Record<string, unknown>;
  for (const field of ['createdAt', 'startedAt', 'finishedAt', 'scheduledAt'] as const) {
    if (typeof raw[field] === 'string')
      (raw as Record<string, unknown>)[field] = new Date(raw[field] as unknown as string);
  }
  return raw;
}
