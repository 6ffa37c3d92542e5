import { FailureKind } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { RunRequest, SkipKind } from '../run.types';

/** How one attempt ended, as seen by the pipeline. */
export interface RunFinished {
  definition: JobDefinition;
  request: RunRequest;
  outcome: 'completed' | 'skipped' | 'failed';
  /** Failed attempts only. */
  failureKind?: FailureKind;
  /** Skipped attempts only. */
  skipReason?: string;
  /** Skipped attempts only: which stage skipped it (lock held, a missed tick, a paused job). */
  skipKind?: SkipKind;
  durationMs: number;
}

/**
 * Told about every attempt once it ends (metrics, tracing). Listeners must not throw: an error is logged and
 * never changes the run's outcome.
 */
export interface RunListener {
  onRunFinished(event: RunFinished): void;
}

/** Multi-provider token: the module registers its listeners under it; the pipeline reads it, optionally. */
export const RUN_LISTENERS = Symbol('background-jobs:run-listeners');
