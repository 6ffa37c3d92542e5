import { JobExecution, JobFailure, JobState } from '../../contracts';
import { JobDefinition, LazyAbortController, RunKind, RunSchedule, StepRecord, stepList } from '../../core';

/** One run held in memory by the embedded transport. */
export interface LocalRun {
  id: string;
  definition: JobDefinition;
  tenantId: string | null;
  data: unknown;
  /** What the run is (a tick, a fan-out, one tenant's child, …). */
  kind: RunKind;
  /** The schedule of a tick. */
  schedule?: RunSchedule;
  state: JobState;
  attemptsStarted: number;
  attemptsMade: number;
  createdAt: Date;
  dueAt: number;
  scheduledAt?: Date;
  startedAt?: Date;
  finishedAt?: Date;
  result?: unknown;
  skipReason?: string;
  failure?: JobFailure;
  progress?: number;
  logs: string[];
  /** Durable steps (`ctx.step`) kept by earlier attempts, by name. */
  steps?: Record<string, StepRecord>;
  dedupeKey?: string;
  timer?: unknown;
  controller?: LazyAbortController;
}

export const FINAL = new Set<JobState>(['completed', 'failed', 'cancelled', 'skipped']);

/** A run's snapshot, as the facade returns it. */
export function snapshot(run: LocalRun): JobExecution {
  const execution: JobExecution = {
    executionId: run.id,
    jobId: run.definition.id,
    tenantId: run.tenantId,
    state: run.state,
    attempts: run.attemptsStarted,
    data: run.data,
    createdAt: run.createdAt,
  };
  if (run.state === 'completed') execution.result = run.result;
  if (run.state === 'skipped') execution.skipReason = run.skipReason;
  if (run.state === 'failed' || run.state === 'cancelled') execution.failure = run.failure;
  if (run.progress !== undefined) execution.progress = run.progress;
  if (run.startedAt) execution.startedAt = run.startedAt;
  if (run.finishedAt) execution.finishedAt = run.finishedAt;
  if (run.scheduledAt) execution.scheduledAt = run.scheduledAt;
  const steps = stepList(run.steps);
  if (steps) execution.steps = steps;
  return execution;
}
