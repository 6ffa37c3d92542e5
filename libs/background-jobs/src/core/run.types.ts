import { BatchSummary, FailureKind, JobFailure, JobWaiting } from '../contracts';
import { AdmissionCheck } from './admission/limit-spec';
import { LazyAbortController } from './lazy-abort-controller';
import { CompletionChannel } from './ports/completion-channel.port';
import { RunKind } from './run-kind';
import { RunSchedule } from './schedule';

/** What a transport hands the pipeline for one run. */
export interface RunRequest {
  executionId: string;
  attempt: number;
  tenantId: string | null;
  data: unknown;
  scheduledAt?: Date;
  /**
   * The run's abort, made by the transport, which aborts it on cancel or shutdown (the reason is a JobAbortedError);
   * the pipeline aborts the same one on timeout and lock loss, and `ctx.signal` is its signal.
   */
  controller: LazyAbortController;
  /** What the run is (a tick, a fan-out, one tenant's child, …): decides its stages and its body. `plain` when absent. */
  kind?: RunKind;
  /** The schedule that made this tick (its id, timing and misfire policy); absent on a run that is not a tick. */
  schedule?: RunSchedule;
  /**
   * The connection the transport will record this run's outcome on, when a lease of the same store may send its
   * release there ahead of that record (BullMQ on one Redis server: the worker's connection); absent otherwise.
   */
  completionChannel?: CompletionChannel;
  /** The batch a `batch-child` run counts towards. */
  batchId?: string;
  /** A `callback` run's batch, with its final counts (`ctx.batch`). */
  batch?: BatchSummary;
  /** A `continuation`'s dependencies (execution ids) and what a failed one does to it (`cancel` when absent). */
  after?: string[];
  onDependencyFailure?: 'cancel' | 'run';
  /** The run's durable steps as the transport keeps them; absent only on a direct pipeline call (nothing kept). */
  steps?: RunStepStore;
  reportProgress(percent: number, message?: string): Promise<void>;
  log(message: string): Promise<void>;
}

/** One step as a transport keeps it on the run (times in ms since the epoch; plain JSON). */
export interface StepRecord {
  state: 'completed' | 'failed';
  startedAt: number;
  finishedAt: number;
  /** A completed step's result (absent when it returned undefined). */
  result?: unknown;
  /** A failed step's error message. */
  error?: string;
}

/** Where a transport keeps a run's steps: on the run's own record, so they live and go with it. */
export interface RunStepStore {
  /** The steps kept so far by earlier attempts (or before a sleep), by name. */
  readonly kept: Readonly<Record<string, StepRecord>>;
  /** Keeps one step's record on the run; resolves once it is stored. */
  save(name: string, record: StepRecord): Promise<void>;
}

/**
 * How a run left the pipeline when it did not fail: completed, skipped, or deferred ("not yet": admission held it
 * back, or it threw RateLimitedError). A deferred run used no attempt: the transport parks it until `waiting.until`,
 * or until the admission store wakes it when `parkOn` (a full concurrency check) has room.
 */
export type RunOutcome =
  | { status: 'completed'; value: unknown }
  | { status: 'skipped'; reason: string }
  | { status: 'deferred'; waiting: JobWaiting; parkOn?: AdmissionCheck };

/**
 * A run that failed, already classified. `retry` is false for every kind but transient; `unrecognised` is true when
 * no rule knew the error (its kind is the module's `unknownErrorKind`), so its stack is worth logging.
 */
export class JobRunFailure extends Error {
  readonly retry: boolean;
  readonly unrecognised: boolean;
  constructor(
    readonly kind: FailureKind,
    message: string,
    options?: { cause?: unknown; unrecognised?: boolean },
  ) {
    super(message, options);
    this.name = 'JobRunFailure';
    this.retry = kind === 'transient';
    this.unrecognised = options?.unrecognised ?? false;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Why a stage skipped a run. */
export type SkipKind = 'lock-busy' | 'misfire' | 'paused';

const MAX_STACK_CHARS = 8_192;

/** The failure a transport records for a failed attempt: kind, message and the stack of what the job threw. */
export function recordedFailure(error: JobRunFailure): JobFailure {
  const stack = (error.cause instanceof Error ? error.cause.stack : undefined) ?? error.stack;
  const failure: JobFailure = { kind: error.kind, message: error.message };
  if (stack) failure.stack = stack.slice(0, MAX_STACK_CHARS);
  return failure;
}

/** Returned through the pipeline by a stage that decides the run must not execute. */
export class SkipRun {
  constructor(
    readonly reason: string,
    readonly kind: SkipKind,
  ) {}
}

/** Returned through the pipeline by the admission stage: the run may not start yet (see RunOutcome `deferred`). */
export class DeferRun {
  constructor(
    readonly waiting: JobWaiting,
    readonly parkOn?: AdmissionCheck,
  ) {}
}

/**
 * Thrown by `ctx.sleep` through the job's body and the stages: not a failure and not an outcome. The runner hands the
 * run back `deferred` with `waiting.reason: 'sleep'`; the transport parks it until `until`, using no attempt.
 */
export class RunSleeping extends Error {
  constructor(readonly until: Date) {
    super(`sleeping until ${until.toISOString()}`);
    this.name = 'RunSleeping';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/**
 * The run was interrupted by shutdown: not a failure. The transport hands it back to the queue so another
 * instance runs it; no attempt is used up.
 */
export class RunInterrupted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunInterrupted';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
