// NOTE: the shapes the three transport ports (run-queue, execution-reader, schedule-store) exchange with core.
import { BatchSummary, DedupeOptions, JobExecution, JobState } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { RunKind } from '../run-kind';
import { RunOutcome, RunRequest } from '../run.types';

/** Runs one execution through the pipeline; the transport calls it for every job it takes. */
export type RunHandler = (definition: JobDefinition, request: RunRequest) => Promise<RunOutcome>;

/** A message to enqueue: who it runs as and what it carries. */
export interface OutgoingRun {
  tenantId: string | null;
  data: unknown;
  delayMs?: number;
  /** One run per key of the job while the mode's window lasts; checked by the facade. */
  dedupe?: DedupeOptions;
  /** Tier, 0 (first) to PRIORITY_TIERS - 1; 0 when absent; checked by the facade. */
  priority?: number;
  /** What the run is; `plain` when absent. A tick is never enqueued: schedules make those. */
  kind?: Exclude<RunKind, 'tick' | 'fan-out-tick'>;
}

/** A run with an execution id chosen by the caller: adding an id that exists already adds nothing. */
export interface IdentifiedRun {
  id: string;
  tenantId: string | null;
  data: unknown;
  delayMs?: number;
  /** A `batch-child`'s batch. */
  batchId?: string;
  /** A `callback`'s batch, with its final counts. */
  batch?: BatchSummary;
  /** A `continuation`'s dependencies and its policy for a failed one. */
  after?: string[];
  onDependencyFailure?: 'cancel' | 'run';
  /** What the run is; `plain` when absent. */
  kind?: Exclude<RunKind, 'tick' | 'fan-out-tick'>;
}

/** A filtered, paginated slice of executions, newest first. */
export interface ExecutionQuery {
  states?: JobState[];
  jobId?: string;
  /** `undefined`: any tenant; `null`: host-level runs only. */
  tenantId?: string | null;
  offset: number;
  limit: number;
}

export interface ExecutionPage {
  items: JobExecution[];
  /** Matching executions in the scanned window (see the transport's scan limit). */
  total: number;
  offset: number;
  limit: number;
}

/** What `retry` found: retried, unknown, or in a state that cannot be retried. */
export type RetryResult = { status: 'retried' } | { status: 'unknown' } | { status: 'not-failed'; state: JobState };

/** Jobs per BullMQ state of one queue. */
export interface QueueDepth {
  queue: string;
  waiting: number;
  active: number;
  delayed: number;
  prioritized: number;
  completed: number;
  failed: number;
}

/** What the health indicator reports. */
export interface TransportHealth {
  /** Where runs are kept: Redis (BullMQ) or this process's memory (the embedded transport). */
  store: 'redis' | 'memory';
  reachable: boolean;
  error?: string;
  /** Redis `maxmemory-policy`; anything but `noeviction` may silently drop jobs. */
  maxmemoryPolicy?: string;
  /** Workers this instance should run (0 on a producer-only instance) and those running. */
  workersExpected: number;
  workersRunning: number;
  queues: QueueDepth[];
  /** Redis Cluster: every node the client knows, with its role and whether it answered. */
  nodes?: RedisNodeHealth[];
  /** Sentinel: the master the sentinels named and this instance is connected to (`host:port`). */
  master?: string;
}

/** One Redis Cluster node as the health check saw it. */
export interface RedisNodeHealth {
  address: string;
  role: 'master' | 'replica';
  reachable: boolean;
  error?: string;
}

/** The last lines a run logged, oldest first, and how many it logged in all. */
export interface ExecutionLogs {
  lines: string[];
  count: number;
}

/** One live instance running workers, as its last heartbeat described it (`GET <path>/instances`). */
export interface InstanceInfo {
  /** Random per process start. */
  instanceId: string;
  hostname: string;
  pid: number;
  /** Queues its workers take runs from. */
  queues: string[];
  /** Runs it takes at once per queue. */
  concurrency: number;
  /** Runs executing on it at its last heartbeat. */
  running: number;
  startedAt: Date;
  lastBeatAt: Date;
  /** The version of nestjs-background-jobs it runs. */
  version: string;
}
