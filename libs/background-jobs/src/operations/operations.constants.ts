import { FailureKind, JobState } from '../contracts';

/** Every run state, in the order the dashboard and the overview list them. */
export const JOB_STATES: readonly JobState[] = [
  'pending',
  'delayed',
  'running',
  'completed',
  'failed',
  'cancelled',
  'skipped',
];

/** Every failure kind; `cancelled` is someone's decision, not a fault. */
export const FAILURE_KINDS: readonly FailureKind[] = ['transient', 'permanent', 'cancelled', 'timeout', 'lock-lost'];
