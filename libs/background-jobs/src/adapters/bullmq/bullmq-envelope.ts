import { BatchSummary, JobFailure, WaitingReason } from '../../contracts';
import { Job } from 'bullmq';
import { RunKind, RunStepStore, StepRecord, tickOf } from '../../core';

/** What the framework stores as BullMQ job data; `bgj` marks jobs and schedulers as ours. */
export interface JobEnvelope {
  bgj: 1;
  tenantId: string | null;
  payload?: unknown;
  /** Fingerprint of a recurring definition, so an unchanged boot does not rewrite its scheduler. */
  fp?: string;
  /** The schedule a scheduler's ticks belong to: its id, source (`d` decorator, `r` runtime), timing and misfire policy. */
  sched?: ScheduleMark;
  /** What the run is, when not `plain`; on a scheduler's template, what its ticks are (`fan-out`: fan-out ticks). */
  kind?: RunKind;
  /** Written before `kind` existed for a per-tenant job's tick or trigger; read as `kind: 'fan-out'`. */
  fanOut?: true;
  /** A batch child's batch. */
  batchId?: string;
  /** A batch callback's batch, with its final counts (`ctx.batch`). */
  batch?: BatchSummary;
  /** A continuation's dependencies (execution ids) and its policy for a failed one. */
  after?: string[];
  onDep?: 'cancel' | 'run';
  /** The run's durable steps (`ctx.step`), by name: kept on the job so a retry or a recovered run reuses them. */
  steps?: Record<string, StepRecord>;
  /** Set by the worker when an attempt fails: BullMQ itself records only the message. */
  failure?: JobFailure;
  /** Why admission holds the run back (`JobExecution.waiting`; `until` in ms); stale once the run starts. */
  waiting?: { reason: WaitingReason; limit?: string; key?: string; until?: number };
  /** The run's dedupe key (BullMQ deduplication) is released when a worker takes it (`until-started`). */
  dedupeUntilStart?: true;
  /** The enqueuing caller's trace context (W3C headers), when OpenTelemetry is present. */
  trace?: Record<string, string>;
}

/** What the framework stores as a BullMQ job's return value. */
export type ResultEnvelope =
  { bgj: 1; outcome: 'completed'; value?: unknown } | { bgj: 1; outcome: 'skipped'; reason: string };

export const isEnvelope = (data: unknown): data is JobEnvelope =>
  typeof data === 'object' && data !== null && (data as { bgj?: unknown }).bgj === 1;

/** What a scheduler's template carries of its schedule (short keys: it is copied into every tick). */
export interface ScheduleMark {
  id: string;
  src: 'd' | 'r';
  cron?: string;
  every?: number;
  tz: string;
  misfire: 'skip' | 'run-once';
  thr: number;
  /** The end date (ms), when the schedule has one. */
  end?: number;
}

/** The kind of the run a BullMQ job carries: a tick when a scheduler made it. */
export function kindOf(envelope: JobEnvelope, fromScheduler: boolean): RunKind {
  const kind: RunKind = envelope.kind ?? (envelope.fanOut ? 'fan-out' : 'plain');
  return fromScheduler ? tickOf(kind) : kind;
}

/**
 * Where `ctx.step` keeps a run's steps on BullMQ: in the job's own data, so they live and go with the job. On the
 * envelope object itself, so the failure record and the success cleanup written later keep them.
 */
export function stepStoreOf(job: Job, envelope: JobEnvelope): RunStepStore {
  return {
    kept: envelope.steps ?? {},
    save: (name, record) => {
      envelope.steps = { ...envelope.steps, [name]: record };
      return job.updateData(envelope);
    },
  };
}
