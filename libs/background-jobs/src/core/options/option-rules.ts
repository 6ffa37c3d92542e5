import { DedupeMode, JobTenancy } from '../../contracts';
import { integerFrom, oneOf, OptionRule, rule } from './option-rule';

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** `EnqueueOptions.priority` runs from 0 (first) to PRIORITY_TIERS - 1. */
export const PRIORITY_TIERS = 8;
const nonEmptyString = (value: unknown) => typeof value === 'string' && value.length > 0;

/**
 * Every option's rule, by its path, written once: job definitions (`@PipelineJob`), runtime schedules
 * (`upsertSchedule`) and module options read the same entry, so an option means the same everywhere. Its default
 * is in DEFAULTS (or, for a job's retry, timeout and history, the module's `defaults`). A new option is one entry
 * here plus its key in option-keys.ts.
 */
export const OPTION_RULES = {
  queue: rule<string>(
    "a name of letters, digits, '.', '_' or '-' (BullMQ forbids ':')",
    (value) => typeof value === 'string' && QUEUE_NAME.test(value),
  ),
  tenancy: rule<JobTenancy>("'host' or 'per-tenant'", oneOf('host', 'per-tenant')),
  enabled: rule<boolean>('true or false', (value) => typeof value === 'boolean'),
  everyMs: rule<number>('a positive integer (milliseconds)', integerFrom(1)),
  misfire: rule<'skip' | 'run-once'>("'skip' or 'run-once'", oneOf('skip', 'run-once')),
  misfireThresholdMs: rule<number>('an integer ≥ 0 (milliseconds)', integerFrom(0)),
  'lock.ttlMs': rule<number>('an integer ≥ 100 (milliseconds)', integerFrom(100)),
  'lock.key': rule<string>('a non-empty string', nonEmptyString),
  'retry.attempts': rule<number>('an integer ≥ 1', integerFrom(1)),
  'retry.backoffMs': rule<number>('an integer ≥ 0', integerFrom(0)),
  timeoutMs: rule<number>('an integer ≥ 0 (0: no timeout)', integerFrom(0)),
  'history.count': rule<number>('an integer ≥ 0', integerFrom(0)),
  'history.maxAgeSeconds': rule<number>('an integer ≥ 1', integerFrom(1)),
  'fairness.concurrencyPerTenant': rule<number>('an integer ≥ 1', integerFrom(1)),
  'worker.concurrency': rule<number>('a positive integer', integerFrom(1)),
  'worker.shutdownGraceMs': rule<number>('an integer ≥ 0', integerFrom(0)),
  // NOTE: below ~200 ms the lock renewal (every lockDurationMs / 2) races ordinary Redis latency.
  'worker.lockDurationMs': rule<number>('an integer ≥ 200 (ms)', integerFrom(200)),
  'worker.stalledIntervalMs': rule<number>('an integer ≥ 100 (ms)', integerFrom(100)),
  'worker.maxStalledCount': rule<number>('an integer ≥ 0', integerFrom(0)),
  unknownErrorKind: rule<'transient' | 'permanent'>("'transient' or 'permanent'", oneOf('transient', 'permanent')),
  maxPayloadBytes: rule<number>('a positive integer (bytes)', integerFrom(1)),
  payloadChanges: rule<'reject' | 'warn'>("'reject' or 'warn'", oneOf('reject', 'warn')),
  priority: rule<number>(
    `an integer from 0 (first) to ${PRIORITY_TIERS - 1}`,
    (value) => Number.isInteger(value) && (value as number) >= 0 && (value as number) < PRIORITY_TIERS,
  ),
  'dedupe.mode': rule<DedupeMode>(
    "'until-started', 'until-finished', 'debounce' or 'throttle'",
    oneOf('until-started', 'until-finished', 'debounce', 'throttle'),
  ),
} satisfies Record<string, OptionRule>;
