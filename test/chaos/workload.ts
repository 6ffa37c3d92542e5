import type { PipelineJobOptions } from 'nestjs-background-jobs';

/**
 * The soak's workload, handed to every app process in its config and read by the invariants. A job kind is one entry
 * here, one line in the producer's mix (app.ts `produce`) and one check in invariants.ts (or flow-invariants.ts).
 */
export type ChaosJob = PipelineJobOptions & { holdMs: [number, number] };

export const RETRY_ATTEMPTS = 3;
/** `fairness.concurrencyPerTenant` of chaos-fair, the cap the tenant invariant checks. */
export const TENANT_CAP = 2;
/** Finished runs kept per state; the retention invariant checks the queue's sets against them. */
export const HISTORY = { completed: { count: 200 }, failed: { count: 200 } };
export const TICK_EVERY_MS = 1000;
/** `rateLimit` of chaos-rate, per tenant: the producer's bursts of 3 exceed it, its average (0.75/s) does not. */
export const RATE_LIMIT = { max: 2, durationMs: 2_000 };
/** `concurrency.max` of chaos-conc, per tenant: a singleton per key. */
export const CONCURRENCY_CAP = 1;
/** The `ctx.sleep` of chaos-steps, between its second and third step. */
export const STEPS_SLEEP_MS = 500;

export const JOBS: ChaosJob[] = [
  { id: 'chaos-effect', retry: { attempts: RETRY_ATTEMPTS, backoffMs: 200 }, history: HISTORY, holdMs: [20, 300] },
  { id: 'chaos-tick', everyMs: TICK_EVERY_MS, history: HISTORY, holdMs: [5, 50] },
  { id: 'chaos-steps', retry: { attempts: RETRY_ATTEMPTS, backoffMs: 200 }, history: HISTORY, holdMs: [20, 150] },
  { id: 'chaos-locked', lock: { ttlMs: 3000 }, retry: { attempts: 1 }, history: HISTORY, holdMs: [100, 600] },
  {
    id: 'chaos-fair',
    fairness: { by: 'tenant', concurrencyPerTenant: TENANT_CAP },
    history: HISTORY,
    holdMs: [100, 500],
  },
  { id: 'chaos-rate', rateLimit: { ...RATE_LIMIT, key: 'tenant' }, history: HISTORY, holdMs: [10, 100] },
  { id: 'chaos-conc', concurrency: { max: CONCURRENCY_CAP, key: 'tenant' }, history: HISTORY, holdMs: [100, 400] },
  { id: 'chaos-batch-done', history: HISTORY, holdMs: [5, 50] },
];

/** Short leases, so a killed worker's runs come back within seconds (lockDurationMs + stalledIntervalMs). */
export const WORKER_OPTIONS = {
  concurrency: 4,
  lockDurationMs: 5_000,
  stalledIntervalMs: 5_000,
  maxStalledCount: 2,
  shutdownGraceMs: 5_000,
};

/**
 * The event-loop watch of every app process (app.ts `watchLoop`): a timer every `everyMs`; one that fires at least
 * `stallMs` late is written down as a stall. A stall measured `late` blocked the loop up to `late + everyMs`.
 */
export const LOOP_WATCH = { everyMs: 50, stallMs: 50 };

export type NatMap = Record<string, { host: string; port: number }>;

export type ChaosConnection =
  | { kind: 'standalone'; port: number }
  | { kind: 'sentinel'; sentinels: Array<{ host: string; port: number }>; name: string; natMap: NatMap }
  | { kind: 'cluster'; seeds: Array<{ host: string; port: number }>; natMap: NatMap };

/** RELIABILITY_CONFIG of one app process (test/reliability/support/instance.ts passes it as JSON). */
export interface ChaosConfig {
  name: string;
  role: 'producer' | 'worker';
  connection: ChaosConnection;
  prefix: string;
  pgUrl: string;
  schema: string;
  seed: number;
  jobs: ChaosJob[];
  worker: typeof WORKER_OPTIONS;
  loopWatch: typeof LOOP_WATCH;
}

export type ChaosCommand = { cmd: 'stop' } | { cmd: 'states'; executionIds: string[] };
