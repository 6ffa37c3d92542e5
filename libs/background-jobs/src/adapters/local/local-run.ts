import { BatchSummary, JobExecution, JobFailure, JobState, JobWaiting } from '../../contracts';
import {
  JobDefinition,
  LazyAbortController,
  RunKind,
  RunRequest,
  RunSchedule,
  RunStepStore,
  StepRecord,
  stepList,
} from '../../core';

/** One run held in memory by the embedded transport. */
export interface LocalRun {
  id: string;
  definition: JobDefinition;
  tenantId: string | null;
  data: unknown;
  /** What the run is (a tick, a fan-out, one tenant's child, …). */
  kind: RunKind;
  /** Tier (`EnqueueOptions.priority`): lower goes first in its lane (fair) or line (plain); 0 when absent. */
  priority?: number;
  /** A batch child's batch. */
  batchId?: string;
  /** A batch callback's batch, with its final counts. */
  batch?: BatchSummary;
  /** The schedule of a tick. */
  schedule?: RunSchedule;
  /** A continuation's dependencies and its policy for a failed one. */
  after?: string[];
  onDependencyFailure?: 'cancel' | 'run';
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
  /** Why admission holds it back (a parked run: delayed without a timer until the store wakes it). */
  waiting?: JobWaiting;
  timer?: unknown;
  controller?: LazyAbortController;
}

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
  if (run.after) [execution.after, execution.onDependencyFailure] = [run.after, run.onDependencyFailure ?? 'cancel'];
  if (run.waiting && (run.state === 'delayed' || run.state === 'pending')) execution.waiting = run.waiting;
  return execution;
}

/** Where `ctx.step` keeps a run's steps on the embedded transport: on the run, across its attempts. */
export function stepStoreOf(run: LocalRun): RunStepStore {
  return {
    kept: run.steps ?? {},
    save: async (name, record) => {
      run.steps = { ...run.steps, [name]: record };
    },
  };
}

/** What the pipeline gets for one attempt of `run`. */
export function requestOf(run: LocalRun, controller: LazyAbortController): RunRequest {
  return {
    executionId: run.id,
    attempt: run.attemptsMade + 1,
    tenantId: run.tenantId,
    data: run.data,
    scheduledAt: run.scheduledAt,
    controller,
    kind: run.kind,
    batchId: run.batchId,
    batch: run.batch,
    after: run.after,
    onDependencyFailure: run.onDependencyFailure,
    steps: stepStoreOf(run),
    schedule: run.schedule,
    reportProgress: async (percent, message) => {
      run.progress = percent;
      if (message) run.logs.push(message);
    },
    log: async (message) => {
      run.logs.push(message);
    },
  };
}

/**
 * Queues `run` in `line` behind every run of its tier or a lower one from `from` on, ahead of higher tiers (FIFO
 * within a tier).
 */
export function insertByTier(line: LocalRun[], run: LocalRun, from = 0): void {
  const tier = run.priority ?? 0;
  let index = line.length;
  while (index > from && (line[index - 1].priority ?? 0) > tier) index -= 1;
  line.splice(index, 0, run);
}
