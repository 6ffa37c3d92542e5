import { DEFAULT_QUEUE } from '../contracts';

/**
 * Every default of the module and job options, written once: option resolution, the transports and the facade
 * read them here (the JSDoc `@default` of each public option states the same value).
 */
export const DEFAULTS = {
  /** BullMQ key prefix. */
  prefix: 'bull',
  /** The queue of a job that names none (`DEFAULT_QUEUE`). */
  queue: DEFAULT_QUEUE,
  /** Time zone of a cron schedule. */
  timezone: 'UTC',
  /** A job runs once per run, not once per tenant. */
  tenancy: 'host',
  /** A recurring job's schedule is active. */
  enabled: true,
  /** How an error that no classifier recognises is classified. */
  unknownErrorKind: 'transient',
  /** What a changed payload shape does at boot. */
  payloadChanges: 'reject',
  worker: {
    concurrency: 10,
    shutdownGraceMs: 25_000,
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000,
    maxStalledCount: 1,
  },
  retry: { attempts: 3, backoffMs: 1_000 },
  timeoutMs: 0,
  history: { completed: { count: 1_000, maxAgeSeconds: 86_400 }, failed: { count: 5_000, maxAgeSeconds: 604_800 } },
  maxPayloadBytes: 512 * 1024,
  tenantClsKey: 'tenantId',
  /** Executions per page of `listExecutions` and `GET /executions`. */
  pageSize: 20,
  /** Lines `getExecutionLogs` returns when no limit is given. */
  logLines: 100,
  runNowWaitTimeoutMs: 60_000,
  /** How long boot waits for Redis before failing with one clear error. */
  connectTimeoutMs: 10_000,
  /** How often each instance checks that Redis still holds its schedules. */
  healIntervalMs: 2_000,
  /** Missed-tick policy of a recurring job, and how late a tick may start before it counts as missed (Quartz's). */
  misfire: 'run-once',
  misfireThresholdMs: 60_000,
  /** Bounds on input (`forRoot({ bounds })`); the JSDoc of `InputBounds` states the same values. */
  bounds: {
    minEveryMs: 1_000,
    maxIdLength: 200,
    maxDedupeKeyLength: 200,
    maxDelayMs: 366 * 24 * 60 * 60 * 1000,
    maxLogLineLength: 10_000,
    maxLogLines: 1_000,
  },
  /** How long a dashboard sign-in lasts, and how many signed-in sessions one instance keeps (the oldest goes first). */
  dashboardSession: { ttlMs: 8 * 60 * 60 * 1000, max: 1_000 },
} as const;

/** True for an integer of at least `min`: the one integer check of module, job and call options. */
export const intAtLeast = (value: unknown, min: number): value is number =>
  Number.isInteger(value) && (value as number) >= min;
