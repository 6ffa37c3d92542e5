import { Logger } from '@nestjs/common';
import { DelayedError, Job, MinimalJob, UnrecoverableError, Worker } from 'bullmq';
import {
  CANCELLED_BEFORE_START,
  CANCELLED_ON_REQUEST,
  JobAbortedError,
  JobExecution,
  UNREGISTERED_QUEUE_JOB,
} from '../../contracts';
import {
  DEFAULTS,
  JobDefinition,
  JobRegistry,
  CompletionChannel,
  JobRunFailure,
  LazyAbortController,
  recordedFailure,
  ResolvedWorkerOptions,
  retryDelayMs,
  RunHandler,
  RunInterrupted,
  RunOutcome,
  RunRequest,
} from '../../core';
import { BullmqConnections } from './bullmq-connections';
import { isEnvelope, JobEnvelope, kindOf, ResultEnvelope, stepStoreOf } from './bullmq-envelope';
import { scheduledAtOf, toExecution } from './bullmq-execution.mapper';
import { BullmqAdmission } from './bullmq-admission';
import { BullmqDependencies } from './bullmq-dependencies';
import { BullmqKeys } from './bullmq-keys';
import { BullmqQueues } from './bullmq-queues';
import { runInTraceContext } from './bullmq-trace';
import { BullmqWorker } from './bullmq-worker';
import { RedisClient } from './redis-connection';

/** How long a cancel for a run not (yet) running here is remembered. */
const EARLY_CANCEL_TTL_MS = 60_000;

/** How often each worker instance settles the concurrency keys with parked runs (slots of killed instances). */
const SWEEP_MS = 1_000;

// NOTE: a run parked on a full concurrency key waits as a delayed job this far out; the admission store promotes it
// when a slot frees (and its sweep re-wakes a run whose wake was lost), so the timestamp is only a last resort.
const PARKED_MS = 24 * 60 * 60 * 1_000;

/**
 * One BullMQ Worker per queue on consumer instances: takes jobs, hands each to the pipeline, maps its outcome
 * back to BullMQ, and aborts running runs on a cancel published by any instance.
 */
export class BullmqWorkerHost {
  private readonly logger = new Logger('BackgroundJobs');
  readonly workers: Worker[] = [];
  /** Runs executing on this instance, by execution id: what a cancel message aborts. */
  readonly running = new Map<string, LazyAbortController>();
  /** Cancel messages for ids not running here yet (the window between BullMQ's moveToActive and our processor). */
  private readonly earlyCancels = new Map<string, number>();
  private subscriber?: RedisClient;
  private registry?: JobRegistry;

  constructor(
    private readonly queues: BullmqQueues,
    private readonly connections: BullmqConnections,
    private readonly keys: BullmqKeys,
    private readonly worker: ResolvedWorkerOptions | false,
    private readonly admission: BullmqAdmission,
    private readonly dependencies: BullmqDependencies,
  ) {}

  async start(registry: JobRegistry, run: RunHandler): Promise<void> {
    this.registry = registry;
    if (!this.worker) return;
    const settings = this.worker;
    this.admission.wakeWith((queue, executionId) => this.wake(queue, executionId));
    this.dependencies.wakeWith((queue, executionId) => this.wake(queue, executionId));
    this.admission.startSweeping(SWEEP_MS);
    await this.subscribeToCancels();
    for (const name of registry.queues()) {
      // NOTE: a two-argument processor: with a third (`signal`) BullMQ makes an AbortController per job, which it
      // aborts only on Worker.cancelJob/cancelAllJobs, never called here (cancel goes through our own channel).
      // That controller was a measurable share of the per-run cost (ADR 0005).
      // NOTE: BullMQ records a run's outcome on the worker's connection (`getBackend().client`, its writes grouped);
      // on one Redis server, a locked run's release is sent there ahead of it instead of being awaited (core's
      // AheadReleasingLease). Runs taken before the connection is known release as usual.
      const completion: { channel?: CompletionChannel } = {};
      const worker = new BullmqWorker(name, (job, token) => this.process(job, run, token, completion.channel), {
        connection: this.connections.bullmq('worker'),
        prefix: this.keys.queuePrefix(name),
        concurrency: settings.concurrency,
        lockDuration: settings.lockDurationMs,
        // NOTE: BullMQ gates its stalled check with a key that lives one interval, so a check that lands on the
        // key's last millisecond (its own previous one, or a dead instance's) is skipped and the real gap between
        // checks is up to two intervals. Checking every half of stalledIntervalMs keeps that gap within it, and a
        // dead instance's run is handed back within lockDurationMs + stalledIntervalMs (reliability suite). Boot
        // validation keeps stalledIntervalMs ≥ 100, so the half is never 0.
        stalledInterval: Math.floor(settings.stalledIntervalMs / 2),
        maxStalledCount: settings.maxStalledCount,
        settings: {
          backoffStrategy: (failedAttempts, _type, _error, job) =>
            retryDelayMs({ backoffMs: backoffMsOf(job) }, failedAttempts),
        },
      });
      this.dependencies.watch(worker);
      worker.on('error', (error) => this.logger.error(`Worker for queue "${name}" failed: ${error.message}`));
      if (!this.connections.isCluster) {
        worker.getBackend().client.then(
          (client) => (completion.channel = { connection: this.connections.grouped(client) }),
          () => undefined,
        );
      }
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
  }

  /** Removes a waiting run (leaving a tombstone) or aborts a running one wherever it runs. */
  async cancel(executionId: string): Promise<boolean> {
    const found = await this.queues.find(executionId);
    if (!found) return false;
    const { job } = found;
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children') {
      const snapshot = toExecution(job, state);
      try {
        await job.remove();
      } catch {
        // NOTE: remove() refuses a job that became active meanwhile: cancel it as a running one.
        return this.cancelRunning(executionId);
      }
      const cancelled: JobExecution = {
        ...snapshot,
        state: 'cancelled',
        finishedAt: new Date(),
        failure: { kind: 'cancelled', message: CANCELLED_BEFORE_START },
      };
      const ttl = this.registry?.get(job.name)?.history.failed.maxAgeSeconds ?? DEFAULTS.history.failed.maxAgeSeconds;
      await this.connections.commands().set(this.keys.cancelled(executionId), JSON.stringify(cancelled), 'EX', ttl);
      return true;
    }
    if (state === 'active') return this.cancelRunning(executionId);
    return false;
  }

  /** Aborts a running run wherever it runs: every worker instance listens on one channel. */
  private async cancelRunning(executionId: string): Promise<boolean> {
    await this.connections.commands().publish(this.keys.cancelChannel, executionId);
    return true;
  }

  private async subscribeToCancels(): Promise<void> {
    this.subscriber = this.connections.createClient('subscriber');
    this.subscriber.on('message', (_channel: string, executionId: string) => {
      const controller = this.running.get(executionId);
      if (controller) controller.abort(new JobAbortedError('cancelled', CANCELLED_ON_REQUEST(executionId)));
      else {
        const now = Date.now();
        for (const [id, at] of this.earlyCancels) if (now - at > EARLY_CANCEL_TTL_MS) this.earlyCancels.delete(id);
        this.earlyCancels.set(executionId, now);
      }
    });
    await this.subscriber.subscribe(this.keys.cancelChannel);
  }

  /** Moves a parked (delayed) run back to its queue; false when it is gone. */
  private async wake(queue: string, executionId: string): Promise<boolean> {
    const job = await this.queues.get(queue).getJob(executionId);
    if (!job) return false;
    // NOTE: promote refuses a job that is no longer delayed (already woken, taken, or finished): nothing to do.
    await job.promote().catch(() => undefined);
    return true;
  }

  // NOTE: not an async function: one `then` on the run (and none of our own on the common path), since every promise
  // costs on every run with CLS's async hooks on (ADR 0005).
  private process(
    job: Job,
    run: RunHandler,
    token: string | undefined,
    completionChannel: CompletionChannel | undefined,
  ): Promise<ResultEnvelope | undefined> {
    const definition = this.registry?.get(job.name);
    if (!definition) return Promise.reject(new UnrecoverableError(UNREGISTERED_QUEUE_JOB(job.name)));
    const envelope: JobEnvelope = isEnvelope(job.data) ? job.data : { bgj: 1, tenantId: null, payload: job.data };
    const executionId = job.id as string;
    // NOTE: compare-and-delete (the key may name a newer run by a retry); should it fail, BullMQ still drops the key
    // when the run ends, so the key lasts until finished at worst. Not awaited: the run need not wait for it.
    if (envelope.dedupeUntilStart) job.removeDeduplicationKey().catch(() => false);
    const controller = new LazyAbortController();
    this.running.set(executionId, controller);
    if (this.earlyCancels.delete(executionId))
      controller.abort(new JobAbortedError('cancelled', CANCELLED_ON_REQUEST(executionId)));
    const request: RunRequest = {
      executionId,
      attempt: job.attemptsMade + 1,
      tenantId: envelope.tenantId ?? null,
      data: envelope.payload,
      scheduledAt: scheduledAtOf(job),
      controller,
      kind: kindOf(envelope, Boolean(job.repeatJobKey)),
      batchId: envelope.batchId,
      batch: envelope.batch,
      after: envelope.after,
      onDependencyFailure: envelope.onDep,
      schedule: envelope.sched && {
        id: envelope.sched.id,
        cron: envelope.sched.cron,
        everyMs: envelope.sched.every,
        timezone: envelope.sched.tz,
        misfire: envelope.sched.misfire,
        misfireThresholdMs: envelope.sched.thr,
        endDate: envelope.sched.end === undefined ? undefined : new Date(envelope.sched.end),
      },
      completionChannel,
      steps: stepStoreOf(job, envelope),
      reportProgress: async (percent, message) => {
        await job.updateProgress(percent);
        if (message) await job.log(message);
      },
      log: async (message) => {
        await job.log(message);
      },
    };
    let outcome: Promise<RunOutcome>;
    try {
      outcome = runInTraceContext(envelope.trace, definition.id, executionId, () => run(definition, request));
    } catch (error) {
      outcome = Promise.reject(error);
    }
    return outcome.then(
      (done): ResultEnvelope | undefined | Promise<ResultEnvelope | undefined> => {
        this.running.delete(executionId);
        if (done.status === 'deferred') return this.defer(job, definition, envelope, done, token);
        // NOTE: a run that completed without a value stores no result, as a raw processor that returns nothing (the
        // read model maps a finished job without a result to `completed`): no envelope to serialise and store per run.
        const result: ResultEnvelope | undefined =
          done.status === 'skipped'
            ? { bgj: 1, outcome: 'skipped', reason: done.reason }
            : done.value === undefined
              ? undefined
              : { bgj: 1, outcome: 'completed', value: done.value };
        // NOTE: a success after a recorded failure clears the failure kind the earlier attempt stored.
        return envelope.failure ? job.updateData({ ...envelope, failure: undefined }).then(() => result) : result;
      },
      (error: unknown) => {
        this.running.delete(executionId);
        return this.failed(job, envelope, error, token);
      },
    );
  }

  /** Maps a run's failure onto BullMQ: handed back (shutdown), retried, or failed for good; the failure kind recorded. */
  private async failed(job: Job, envelope: JobEnvelope, error: unknown, token?: string): Promise<never> {
    if (error instanceof RunInterrupted) {
      // NOTE: shutdown is not a failure: hand the job back (no attempt used) so another instance runs it.
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError(error.message);
    }
    if (!(error instanceof JobRunFailure)) throw error;
    await job
      .updateData({ ...envelope, failure: recordedFailure(error) })
      .catch((e: Error) => this.logger.warn(`Could not record the failure kind of ${job.id}: ${e.message}`));
    if (error.retry) throw error;
    throw new UnrecoverableError(error.message);
  }

  /**
   * Admission held the run back: it waits as a delayed job (no attempt used, no worker slot held) until its window
   * opens, or, parked on a full concurrency key, until the admission store promotes it. Why it waits is kept on the
   * job for `getExecution`.
   */
  private async defer(
    job: Job,
    definition: JobDefinition,
    envelope: JobEnvelope,
    done: Extract<RunOutcome, { status: 'deferred' }>,
    token?: string,
  ): Promise<never> {
    const { reason, limit, key, until } = done.waiting;
    // NOTE: BullMQ counted this take as an attempt started; a run admission held back did not start, so the count is
    // given back with the waiting reason, in one write (moveToDelayed itself uses no attempt: skipAttempt).
    const data = JSON.stringify({ ...envelope, waiting: { reason, limit, key, until: until?.getTime() } });
    const jobKey = `${job.queueQualifiedName}:${job.id}`;
    // NOTE: two commands, not a MULTI: sent back to back on one connection, without waiting for the first reply.
    const redis = this.connections.commands();
    await Promise.all([redis.hset(jobKey, 'data', data), redis.hincrby(jobKey, 'ats', -1)]);
    // NOTE: parked before it is delayed, so an instance killed in between leaves an active job (the stalled check
    // hands it back), never a run delayed a day that nothing wakes; a wake that came before the move is done here.
    const [id, queue, parkOn] = [job.id as string, definition.queue, done.parkOn];
    if (parkOn) await this.admission.park(id, queue, parkOn);
    await job.moveToDelayed(until ? until.getTime() : Date.now() + PARKED_MS, token);
    if (parkOn && (await this.admission.wokenAlready(id, queue, parkOn))) await this.wake(queue, id);
    if (reason === 'dependencies') await this.dependencies.park(id, queue);
    throw new DelayedError(`waiting: ${reason}${limit ? ` (${limit}${key ? ` ${key}` : ''})` : ''}`);
  }
}

/** The backoff a job was enqueued with (its definition's `retry.backoffMs` then). */
function backoffMsOf(job: MinimalJob | undefined): number {
  const backoff = job?.opts.backoff;
  return typeof backoff === 'number' ? backoff : (backoff?.delay ?? 0);
}
