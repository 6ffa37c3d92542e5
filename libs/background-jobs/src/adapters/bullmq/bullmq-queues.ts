import { Logger } from '@nestjs/common';
import { DeduplicationOptions, Job, JobsOptions, Queue } from 'bullmq';
import { DedupeOptions } from '../../contracts';
import { randomBytes } from 'node:crypto';
import { IdentifiedRun, JobDefinition, JobRegistry, OutgoingRun } from '../../core';
import { BullmqConnections } from './bullmq-connections';
import { BullmqKeys } from './bullmq-keys';
import { JobEnvelope } from './bullmq-envelope';
import { BullmqFairness, PLAIN_LANE } from './bullmq-fairness';
import { captureTraceContext } from './bullmq-trace';

/** One BullMQ Queue per `queue` name under the prefix: what runs are added to and looked up in. */
export class BullmqQueues {
  private readonly logger = new Logger('BackgroundJobs');
  private readonly queues = new Map<string, Queue>();
  private registry?: JobRegistry;
  /** Queues that hold a fair job: plain runs added to them take rounds as one more lane (see `enqueue`). */
  private fairQueues = new Set<string>();

  constructor(
    private readonly connections: BullmqConnections,
    readonly keys: BullmqKeys,
    private readonly fairness: BullmqFairness,
  ) {}

  get prefix(): string {
    return this.keys.prefix;
  }

  /** The registry whose queues `known()` lists; set at boot. */
  use(registry: JobRegistry): void {
    this.registry = registry;
    this.fairQueues = new Set(
      registry
        .all()
        .filter((definition) => definition.fairness)
        .map((definition) => definition.queue),
    );
  }

  get(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connections.bullmq('queue'), prefix: this.keys.queuePrefix(name) });
      queue.on('error', (error) => this.logger.error(`Queue "${name}" failed: ${error.message}`));
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** The queues of this app's jobs (every queue opened so far before boot). */
  known(): Queue[] {
    return (this.registry?.queues() ?? [...this.queues.keys()]).map((name) => this.get(name));
  }

  /** Every queue opened, to close. */
  opened(): Queue[] {
    return [...this.queues.values()];
  }

  // NOTE: not an async function: the common path (no fairness, the trace capture a plain value) is one `then` on
  // Queue.add, since every promise costs on every enqueue (ADR 0005).
  enqueue(definition: JobDefinition, run: OutgoingRun): Promise<string> {
    const envelope: JobEnvelope = { bgj: 1, tenantId: run.tenantId };
    if (run.data !== undefined) envelope.payload = run.data;
    if (run.kind && run.kind !== 'plain') envelope.kind = run.kind;
    const trace = captureTraceContext();
    if (trace instanceof Promise) return trace.then((captured) => this.add(definition, run, envelope, captured));
    return this.add(definition, run, envelope, trace);
  }

  private add(
    definition: JobDefinition,
    run: OutgoingRun,
    envelope: JobEnvelope,
    trace: Record<string, string> | undefined,
  ): Promise<string> {
    if (trace) envelope.trace = trace;
    // NOTE: fields added to the fresh options object, not spread into a new one: that spread was ≈ 4 µs of CPU per
    // enqueue, all of what this library added to Queue.add (ADR 0005).
    const options = jobOptions(definition);
    options.jobId = nextExecutionId();
    options.delay = run.delayMs;
    // NOTE: BullMQ's moveToActive takes the wait list before the prioritized set, and a scheduler's ticks are
    // promoted onto the wait list (their template's lifo or priority does not survive the delayed set). Enqueued runs
    // therefore go through the prioritized set (FIFO among themselves), so a recurring tick is taken by the next free
    // worker slot instead of starving behind a backlog on a shared queue (bench: "recurring start lag").
    options.priority = ENQUEUED_PRIORITY + (run.priority ?? 0);
    if (run.dedupe) {
      options.deduplication = deduplicationOf(definition.id, run.dedupe);
      // NOTE: a debounced run waits its window (or its own delay when longer); each replacing enqueue restarts it.
      if (run.dedupe.mode === 'debounce') options.delay = Math.max(run.delayMs ?? 0, run.dedupe.ttlMs ?? 0);
      if (run.dedupe.mode === 'until-started') envelope.dedupeUntilStart = true;
    }
    const queue = this.get(definition.queue);
    // NOTE: on a queue shared with fair jobs, priority 1 would put every plain run ahead of every fair run past round 1
    // (a steady plain stream would starve them); plain runs take rounds there as one lane of the round robin instead,
    // so each is served in turn with the tenants. Ticks stay on the wait list, ahead of both (docs/fairness.md).
    if (!this.takesRounds(definition)) return queue.add(definition.id, envelope, options).then(idOf);
    return this.fairness.round(queue, laneOf(definition, run.tenantId), run.priority).then((round) => {
      options.priority = round;
      return queue.add(definition.id, envelope, options).then(idOf);
    });
  }

  async enqueueMany(definition: JobDefinition, runs: IdentifiedRun[]): Promise<string[]> {
    if (runs.length === 0) return [];
    const options = jobOptions(definition);
    const queue = this.get(definition.queue);
    const lanes = this.takesRounds(definition) ? runs.map((run) => laneOf(definition, run.tenantId)) : undefined;
    const rounds = lanes ? await this.fairness.rounds(queue, lanes) : undefined;
    const jobs = await queue.addBulk(
      runs.map((run, i) => {
        const data: JobEnvelope = { bgj: 1, tenantId: run.tenantId };
        if (run.data !== undefined) data.payload = run.data;
        if (run.kind && run.kind !== 'plain') data.kind = run.kind;
        if (run.batchId) data.batchId = run.batchId;
        if (run.batch) data.batch = run.batch;
        if (run.after) data.after = run.after;
        if (run.onDependencyFailure) data.onDep = run.onDependencyFailure;
        const opts: JobsOptions = rounds
          ? { ...options, jobId: run.id, priority: rounds[i] }
          : { ...options, jobId: run.id };
        if (run.delayMs) opts.delay = run.delayMs;
        return {
          name: definition.id,
          data,
          opts,
        };
      }),
    );
    return jobs.map((job) => job.id as string);
  }

  /** Whether runs of `definition` take rounds of the round robin: a fair job's, or any on a queue shared with one. */
  private takesRounds(definition: JobDefinition): boolean {
    return Boolean(definition.fairness) || this.fairQueues.has(definition.queue);
  }

  /**
   * The job of an execution id in whichever of the known queues holds it. An id counts only when it is a member of
   * one of the queue's state lists or sets: a run id may otherwise name one of BullMQ's own keys (`events`, `meta`,
   * `repeat`, `stalled-check`), whose hash or stream would be read as a job or fail with WRONGTYPE.
   */
  async find(executionId: string): Promise<{ job: Job; queue: Queue } | null> {
    for (const queue of this.known()) {
      if ((await queue.getJobState(executionId)) === 'unknown') continue;
      const job = await queue.getJob(executionId);
      if (job) return { job, queue };
    }
    return null;
  }
}

const idOf = (job: Job): string => job.id as string;

/** This process's prefix of execution ids: 72 random bits (12 base64url characters), never all digits. */
const ID_PREFIX = ((): string => {
  for (;;) {
    const prefix = randomBytes(9).toString('base64url');
    if (!/^\d+$/.test(prefix)) return prefix;
  }
})();
let idsGiven = 0;

/**
 * A new execution id: this process's random prefix and a count (about 14 characters). A UUID (36) made every key,
 * list entry and event of a run longer: run anatomy measured BullMQ's own drain of UUID-id jobs at 0.87× of counter
 * ids (bench/README.md). Unique across processes by the prefix; a BullMQ job id that is all digits is refused.
 */
function nextExecutionId(): string {
  idsGiven += 1;
  return ID_PREFIX + idsGiven.toString(36);
}

/**
 * BullMQ's deduplication for a dedupe mode. Without a ttl BullMQ keeps the key until the job completes or fails
 * (until-finished; the worker host releases an until-started key when it takes the run); `ttl` alone keeps it for the
 * window whatever the job does (throttle); `replace` + `extend` swaps a still-delayed job for the new one and restarts
 * the window (debounce).
 */
function deduplicationOf(jobId: string, dedupe: DedupeOptions): DeduplicationOptions {
  const id = `${jobId}:${dedupe.key}`;
  if (dedupe.mode === 'throttle') return { id, ttl: dedupe.ttlMs };
  if (dedupe.mode === 'debounce') return { id, ttl: dedupe.ttlMs, extend: true, replace: true };
  return { id };
}

/** The round-robin lane of a run that takes rounds: its tenant for a fair job, the one plain lane otherwise. */
function laneOf(definition: JobDefinition, tenantId: string | null): string | null {
  return definition.fairness ? tenantId : PLAIN_LANE;
}

/** BullMQ priority of every enqueued run of a queue without fair jobs: behind the wait list, where recurring ticks land. */
export const ENQUEUED_PRIORITY = 1;

/** The backoff type of the framework's jobs: the worker host computes its delays with core's `retryDelayMs`. */
export const RETRY_BACKOFF_TYPE = 'bgj-retry';

/** BullMQ's job options for a definition's retry and history. */
export function jobOptions(definition: JobDefinition): JobsOptions {
  const { retry, history } = definition;
  return {
    attempts: retry.attempts,
    backoff: { type: RETRY_BACKOFF_TYPE, delay: retry.backoffMs },
    removeOnComplete: { count: history.completed.count, age: history.completed.maxAgeSeconds },
    removeOnFail: { count: history.failed.count, age: history.failed.maxAgeSeconds },
  };
}
