import { Logger } from '@nestjs/common';
import { Job, JobsOptions, Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { IdentifiedRun, JobDefinition, JobRegistry, OutgoingRun } from '../../core';
import { BullmqConnections } from './bullmq-connections';
import { JobEnvelope } from './bullmq-envelope';
import { captureTraceContext } from './bullmq-trace';

/** One BullMQ Queue per `queue` name under the prefix: what runs are added to and looked up in. */
export class BullmqQueues {
  private readonly logger = new Logger('BackgroundJobs');
  private readonly queues = new Map<string, Queue>();
  private registry?: JobRegistry;

  constructor(
    private readonly connections: BullmqConnections,
    readonly prefix: string,
  ) {}

  /** The registry whose queues `known()` lists; set at boot. */
  use(registry: JobRegistry): void {
    this.registry = registry;
  }

  get(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connections.bullmq('queue'), prefix: this.prefix });
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

  async enqueue(definition: JobDefinition, run: OutgoingRun): Promise<string> {
    const envelope: JobEnvelope = { bgj: 1, tenantId: run.tenantId };
    if (run.data !== undefined) envelope.payload = run.data;
    if (run.fanOut) envelope.fanOut = true;
    const trace = await captureTraceContext();
    if (trace) envelope.trace = trace;
    // NOTE: fields added to the fresh options object, not spread into a new one: that spread was ≈ 4 µs of CPU per
    // enqueue, all of what this library added to Queue.add (bench/README.md).
    const options = jobOptions(definition);
    options.jobId = randomUUID();
    options.delay = run.delayMs;
    // NOTE: BullMQ's moveToActive takes the wait list before the prioritized set, and a scheduler's ticks are
    // promoted onto the wait list (their template's lifo or priority does not survive the delayed set). Enqueued runs
    // therefore go through the prioritized set (FIFO among themselves), so a recurring tick is taken by the next free
    // worker slot instead of starving behind a backlog on a shared queue (bench: "recurring start lag").
    options.priority = ENQUEUED_PRIORITY;
    if (run.dedupeKey) options.deduplication = { id: `${definition.id}:${run.dedupeKey}` };
    const job = await this.get(definition.queue).add(definition.id, envelope, options);
    return job.id as string;
  }

  async enqueueMany(definition: JobDefinition, runs: IdentifiedRun[]): Promise<string[]> {
    if (runs.length === 0) return [];
    const options = jobOptions(definition);
    const jobs = await this.get(definition.queue).addBulk(
      runs.map((run) => {
        const data: JobEnvelope = { bgj: 1, tenantId: run.tenantId };
        if (run.data !== undefined) data.payload = run.data;
        return { name: definition.id, data, opts: { ...options, jobId: run.id } };
      }),
    );
    return jobs.map((job) => job.id as string);
  }

  /** The job of an execution id in whichever of the known queues holds it. */
  async find(executionId: string): Promise<{ job: Job; queue: Queue } | null> {
    for (const queue of this.known()) {
      const job = await queue.getJob(executionId);
      if (job) return { job, queue };
    }
    return null;
  }
}

/** BullMQ priority of every enqueued run: behind the wait list, where recurring ticks land. */
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
