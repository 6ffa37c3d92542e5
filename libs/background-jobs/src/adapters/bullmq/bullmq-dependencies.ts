import { Logger } from '@nestjs/common';
import { Job, Worker } from 'bullmq';
import { DependencyStore, WakeRun } from '../../core';
import { DEPENDENCY_ENDED, DEPENDENCY_WAIT } from './bullmq-scripts';
import { RedisClient } from './redis-connection';

type DependencyCommands = RedisClient & {
  bgjDependencyWait(base: string, dependent: string, queue: string, ...dependencies: string[]): Promise<number>;
  bgjDependencyEnded(base: string, ...executionIds: string[]): Promise<string[]>;
};

/** Most executions one dependency-ended-1.lua call takes; more ended in one tick go in further calls. */
const MAX_ENDED = 256;

/** The executions ended in one tick, told to Redis in one call. */
interface EndedBatch {
  ids: string[];
  waiters: Array<{ resolve: () => void; reject: (error: Error) => void }>;
  sent: boolean;
}

/**
 * Continuations on Redis: per dependent the set of its pending dependencies, per dependency the set of its
 * dependents, all under one base key (the framework's hash tag on a Cluster: one slot). `ended` is called once a
 * run's final state is recorded (the worker's `completed` and final `failed` events, a cancel before start), so a
 * dependent registered after an `ended` that found nothing sees the dependency ended when it re-checks.
 */
export class BullmqDependencies extends DependencyStore {
  private readonly logger = new Logger('BackgroundJobs');
  private readonly defined = new WeakSet<object>();
  private wake: WakeRun = async () => false;
  private batch?: EndedBatch;

  constructor(
    private readonly redis: () => RedisClient,
    private readonly base: string,
  ) {
    super();
  }

  async wait(dependentId: string, queue: string, dependencyIds: string[]): Promise<void> {
    if (dependencyIds.length === 0) return;
    await this.client().bgjDependencyWait(this.base, dependentId, queue, ...dependencyIds);
  }

  pending(dependentId: string): Promise<number> {
    return this.redis().scard(`${this.base}:on:${dependentId}`);
  }

  /**
   * The runs that end in one tick go as one dependency-ended-1.lua call: almost every run has no dependents, and one
   * call per tick costs less than a command per run (an auto-pipelined EXISTS each made an ioredis pipeline per tick,
   * most of what a run cost the framework's worker beyond BullMQ's own: bench/README.md). Resolves once the dependents
   * it woke are back in their queues; a failed call fails every `ended` in it.
   */
  ended(executionId: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let batch = this.batch;
      if (!batch) {
        const fresh: EndedBatch = { ids: [], waiters: [], sent: false };
        this.batch = batch = fresh;
        process.nextTick(() => this.sendEnded(fresh));
      }
      batch.ids.push(executionId);
      batch.waiters.push({ resolve, reject });
      if (batch.ids.length >= MAX_ENDED) this.sendEnded(batch);
    });
  }

  private sendEnded(batch: EndedBatch): void {
    if (this.batch === batch) this.batch = undefined;
    if (batch.sent) return;
    batch.sent = true;
    // NOTE: from a tick of its own: a client that throws rejects the calls instead of the process.
    Promise.resolve()
      .then(() => this.client().bgjDependencyEnded(this.base, ...batch.ids))
      .then(async (woken) => {
        for (let i = 0; i < woken.length; i += 2) await this.wake(woken[i], woken[i + 1]);
      })
      .then(
        () => batch.waiters.forEach((waiter) => waiter.resolve()),
        (error: Error) => batch.waiters.forEach((waiter) => waiter.reject(error)),
      );
  }

  async forget(dependentId: string): Promise<void> {
    const redis = this.redis();
    await Promise.all([redis.del(`${this.base}:on:${dependentId}`), redis.hdel(`${this.base}:queue`, dependentId)]);
  }

  async park(dependentId: string, queue: string): Promise<void> {
    if ((await this.pending(dependentId)) === 0) await this.wake(queue, dependentId);
  }

  wakeWith(wake: WakeRun): void {
    this.wake = wake;
  }

  /** Tells the store of each run `worker` finishes for good (completed, or failed with no attempt left). */
  watch(worker: Worker): void {
    const ended = (job: Job | undefined) => {
      if (!job?.id) return;
      this.ended(job.id).catch((error: Error) =>
        this.logger.warn(`Waking the continuations of ${job.id} failed: ${error.message}`),
      );
    };
    worker.on('completed', ended);
    // NOTE: BullMQ sets finishedOn only when the failure is final (a retried attempt goes back to delayed/waiting).
    worker.on('failed', (job) => (job?.finishedOn ? ended(job) : undefined));
  }

  private client(): DependencyCommands {
    const redis = this.redis();
    if (!this.defined.has(redis)) {
      redis.defineCommand(DEPENDENCY_WAIT.name, DEPENDENCY_WAIT);
      redis.defineCommand(DEPENDENCY_ENDED.name, DEPENDENCY_ENDED);
      this.defined.add(redis);
    }
    return redis as DependencyCommands;
  }
}
