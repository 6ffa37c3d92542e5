import { JobExecution, JobState, RecurringJobInfo } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { JobRegistry } from '../job-registry';
import { RunOutcome, RunRequest } from '../run.types';

/** Runs one execution through the pipeline; the transport calls it for every job it takes. */
export type RunHandler = (definition: JobDefinition, request: RunRequest) => Promise<RunOutcome>;

/** A message to enqueue: who it runs as and what it carries. */
export interface OutgoingRun {
  tenantId: string | null;
  data: unknown;
  delayMs?: number;
  dedupeKey?: string;
  /** A per-tenant job's run that fans out to every tenant. */
  fanOut?: boolean;
}

/** A run with an execution id chosen by the caller: adding an id that exists already adds nothing. */
export interface IdentifiedRun {
  id: string;
  tenantId: string | null;
  data: unknown;
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

/**
 * Where runs are queued, scheduled and executed. Implemented by the BullMQ adapter and the embedded one.
 */
export abstract class JobTransport {
  /** Reconciles recurring schedules and, unless producer-only, starts taking work. */
  abstract start(registry: JobRegistry, run: RunHandler): Promise<void>;
  /** Queues one run; resolves its execution id. */
  abstract enqueue(definition: JobDefinition, run: OutgoingRun): Promise<string>;
  /** Queues many runs in one round trip where the transport can; ids already present are not added again. */
  abstract enqueueMany(definition: JobDefinition, runs: IdentifiedRun[]): Promise<string[]>;
  abstract getExecution(executionId: string): Promise<JobExecution | null>;
  /** Resolves once the execution reaches a final state, or rejects after `timeoutMs`. */
  abstract waitForFinal(executionId: string, timeoutMs: number): Promise<JobExecution>;
  abstract listRecurring(registry: JobRegistry): Promise<RecurringJobInfo[]>;
  /** Removes a waiting run or aborts a running one; false for unknown or finished ids. */
  abstract cancel(executionId: string): Promise<boolean>;
  /** Executions matching `query`, newest first. */
  abstract listExecutions(query: ExecutionQuery): Promise<ExecutionPage>;
  /** The lines a run logged (`ctx.log`, progress messages), oldest first; null for unknown ids. */
  abstract getExecutionLogs(executionId: string, limit: number): Promise<{ lines: string[]; count: number } | null>;
  /** Re-queues a failed run as a fresh attempt. */
  abstract retry(executionId: string): Promise<RetryResult>;
  /** Stops a recurring job's schedule, persisted and cluster-wide, until `resume`. */
  abstract pause(definition: JobDefinition): Promise<void>;
  /** Re-creates a paused job's schedule; it continues from its next tick. */
  abstract resume(definition: JobDefinition): Promise<void>;
  abstract queueDepths(): Promise<QueueDepth[]>;
  abstract health(): Promise<TransportHealth>;
  /** Stops taking work and closes every connection; safe to call twice. */
  abstract close(): Promise<void>;
}
