import { Logger } from '@nestjs/common';
import { BullmqConnection, JobAbortedError, SHUTDOWN_HANDED_BACK } from '../../contracts';
import {
  DEFAULTS,
  IdentifiedRun,
  JobDefinition,
  JobRegistry,
  OutgoingRun,
  ResolvedWorkerOptions,
  RunHandler,
  RunQueue,
  TransportHealth,
} from '../../core';
import { BullmqBatches } from './bullmq-batches';
import { BullmqDependencies } from './bullmq-dependencies';
import { BullmqConnections } from './bullmq-connections';
import { BullmqAdmission } from './bullmq-admission';
import { BullmqFairness } from './bullmq-fairness';
import { BullmqExecutionsReader } from './bullmq-executions.reader';
import { bullmqHealth } from './bullmq-health';
import { BullmqKeys } from './bullmq-keys';
import { BullmqQueues } from './bullmq-queues';
import { BullmqScheduleReconciler } from './bullmq-schedule-reconciler';
import { BullmqInstances } from './bullmq-instances';
import { BullmqWorkerHost } from './bullmq-worker-host';

/**
 * What the entry builds the transport from. Not a public option type: the module passes `transport.connection`,
 * `transport.prefix` and `worker`; the two timings below are for tests and benchmarks only (DEFAULTS otherwise).
 */
export interface BullmqTransportConfig {
  connection: BullmqConnection;
  /** BullMQ key prefix; DEFAULTS.prefix when absent. */
  prefix?: string;
  /**
   * Stall settings: lockDurationMs and maxStalledCount are BullMQ's Worker options of the same meaning;
   * stalledIntervalMs is the longest gap between stalled checks, so BullMQ checks every half of it (see the worker host).
   */
  worker: ResolvedWorkerOptions | false;
  /** How long boot waits for Redis before failing with one clear error; DEFAULTS.connectTimeoutMs when absent. */
  connectTimeoutMs?: number;
  /** How often each instance checks that Redis still holds its schedules; DEFAULTS.healIntervalMs when absent. */
  healIntervalMs?: number;
}

/** How often each worker instance looks for batches past their `timeoutMs`: a timeout lands within this late. */
const BATCH_SWEEP_MS = 500;

/**
 * Runs jobs on plain BullMQ: one queue per `queue` name under the prefix, one job scheduler per recurring id,
 * one Worker per queue on consumer instances. This class wires the parts and owns the lifecycle; `executions`
 * and `schedules` are the transport's other two ports.
 */
export class BullmqTransport extends RunQueue {
  private readonly logger = new Logger('BackgroundJobs');
  readonly connections: BullmqConnections;
  readonly executions: BullmqExecutionsReader;
  readonly schedules: BullmqScheduleReconciler;
  /** Admission (rate limits, concurrency keys) on Redis: parks the runs it holds back and wakes them. */
  readonly admission: BullmqAdmission;
  readonly batches: BullmqBatches;
  /** Continuations: who waits on whom; parks and wakes the continuations. */
  readonly dependencies: BullmqDependencies;
  private readonly queues: BullmqQueues;
  private readonly fairness: BullmqFairness;
  private readonly host: BullmqWorkerHost;
  private registry?: JobRegistry;
  private closing?: Promise<void>;
  private readonly instances: BullmqInstances;

  constructor(
    private readonly config: BullmqTransportConfig,
    connections?: BullmqConnections,
  ) {
    super();
    this.connections =
      connections ?? new BullmqConnections(config.connection, { connectTimeoutMs: config.connectTimeoutMs });
    const keys = new BullmqKeys(config.prefix ?? DEFAULTS.prefix, this.connections.isCluster);
    const fairness = (this.fairness = new BullmqFairness(() => this.connections.commands(), keys));
    this.queues = new BullmqQueues(this.connections, keys, fairness);
    this.instances = new BullmqInstances(this.connections, keys);
    this.executions = new BullmqExecutionsReader(this.queues, this.connections, keys, fairness, this.instances);
    this.schedules = new BullmqScheduleReconciler(this.queues, this.connections, keys, {
      healIntervalMs: config.healIntervalMs,
      worker: config.worker !== false,
    });
    const slotTtlMs = config.worker ? config.worker.lockDurationMs : DEFAULTS.worker.lockDurationMs;
    this.admission = new BullmqAdmission(() => this.connections.commands(), keys.admission, slotTtlMs);
    this.batches = new BullmqBatches(() => this.connections.commands(), keys.prefix);
    this.dependencies = new BullmqDependencies(() => this.connections.commands(), keys.dependencies);
    const { admission, dependencies } = this;
    this.host = new BullmqWorkerHost(this.queues, this.connections, keys, config.worker, admission, dependencies);
  }

  get prefix(): string {
    return this.queues.prefix;
  }

  async start(registry: JobRegistry, run: RunHandler): Promise<void> {
    this.registry = registry;
    this.queues.use(registry);
    await this.connections.assertReachable();
    await this.host.start(registry, run);
    const worker = this.config.worker;
    if (worker !== false) {
      this.batches.startSweeping(BATCH_SWEEP_MS);
      const queues = registry.queues();
      await this.instances.start(() => ({
        queues,
        concurrency: worker.concurrency,
        running: this.host.running.size,
      }));
    }
  }

  enqueue(definition: JobDefinition, run: OutgoingRun): Promise<string> {
    return this.queues.enqueue(definition, run);
  }

  enqueueMany(definition: JobDefinition, runs: IdentifiedRun[]): Promise<string[]> {
    return this.queues.enqueueMany(definition, runs);
  }

  async cancel(executionId: string): Promise<boolean> {
    const cancelled = await this.host.cancel(executionId);
    // NOTE: a run cancelled before it started ends here (no worker event tells of it); a running one ends on its worker.
    if (cancelled && (await this.executions.getExecution(executionId))?.state === 'cancelled') {
      await this.dependencies.ended(executionId);
    }
    return cancelled;
  }

  setTenantWeight(queue: string, tenantId: string | null, weight: number | null): Promise<void> {
    return this.fairness.setWeight(queue, tenantId, weight);
  }

  health(): Promise<TransportHealth> {
    const expected = this.config.worker ? (this.registry?.queues().length ?? 0) : 0;
    const running = this.host.workers.filter((worker) => worker.isRunning()).length;
    return bullmqHealth(this.connections, this.executions, { expected, running });
  }

  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  /**
   * Graceful, bounded shutdown: stop taking work, let running jobs finish within the grace period, abort the
   * rest (they are handed back to the queue), then close workers, queues and connections. Every step runs even
   * when one fails, and the whole thing returns within grace + ~2 s even when Redis is unreachable.
   */
  private async closeAll(): Promise<void> {
    this.schedules.stop();
    this.admission.stop();
    this.batches.stop();
    const { workers, running } = this.host;
    // NOTE: off the instance list at once, while the workers still finish their runs.
    const instanceGone = this.instances.stop().catch(() => undefined);
    const grace = this.config.worker ? this.config.worker.shutdownGraceMs : 0;
    // NOTE: grace + 1 s for the orderly close, then at most 2 × 200 ms of cut-off steps (run in parallel below):
    // the whole close stays under grace + 2 s even with Redis unreachable.
    const hardDeadline = Date.now() + grace + 1_000;
    const remaining = () => Math.max(0, hardDeadline - Date.now());
    const step = async (label: string, action: () => Promise<unknown>, ms: number): Promise<void> => {
      try {
        if (!(await finishesWithin(action(), ms)))
          this.logger.warn(`Closing: ${label} did not finish in ${ms} ms; going on.`);
      } catch (error) {
        this.logger.error(`Closing: ${label} failed: ${(error as Error).message}`);
      }
    };
    // NOTE: close() first: it stops the fetch loop at once (pause() does not stop a fetch already in flight),
    // then waits for the running jobs, which the grace period below bounds.
    const workersClosed = workers.map((worker) => worker.close());
    if (running.size > 0) {
      await step(`waiting for ${running.size} running job(s)`, () => settled(running, Date.now() + grace), grace);
      for (const [id, controller] of running)
        controller.abort(new JobAbortedError('shutdown', SHUTDOWN_HANDED_BACK(id, grace)));
    }
    await Promise.all(workersClosed.map((closed, i) => step(`worker ${workers[i].name}`, () => closed, remaining())));
    await step('instance heartbeat', () => instanceGone, Math.min(200, remaining()));
    await Promise.all(
      this.queues.opened().map((queue) => step(`queue ${queue.name}`, () => queue.close(), remaining())),
    );
    // NOTE: whatever did not close in time (Redis unreachable) is cut off, so the process can exit. BullMQ's close()
    // stops its stalled-job checker only after Redis answers; pause(true) stops that timer loop without Redis.
    await Promise.all(workers.map((worker) => step('stalled checker', () => worker.pause(true), 200)));
    // NOTE: not the Queues: they share the commands client (or the host's), and BullMQ's Queue.disconnect() would
    // close it although the Queue does not own it. connections.close() disconnects it, unless it is the host's.
    await Promise.all(workers.map((worker) => step('disconnect', () => worker.disconnect(), 200)));
    this.connections.close();
  }
}

/** Polls until no run is left or `until` passes: a poll that outlived the grace period would keep the process alive. */
async function settled(running: Map<string, unknown>, until: number): Promise<void> {
  while (running.size > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Resolves true when `promise` settles within `ms`, false otherwise (it keeps running). */
async function finishesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
