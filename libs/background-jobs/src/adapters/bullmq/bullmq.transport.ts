import { Logger } from '@nestjs/common';
import { CronExpressionParser } from 'cron-parser';
import IORedis, { Cluster } from 'ioredis';
import { ConnectionOptions, DelayedError, Job, JobsOptions, JobSchedulerJson, JobType, Queue, UnrecoverableError, Worker } from 'bullmq';
import { createHash, randomUUID } from 'node:crypto';
import { BullmqConnection, JobAbortedError, JobExecution, JobState, RecurringJobInfo } from '../../contracts';
import {
  ExecutionPage,
  ExecutionQuery,
  IdentifiedRun,
  JobDefinition,
  JobRegistry,
  JobRunFailure,
  JobTransport,
  LazyAbortController,
  OutgoingRun,
  QueueDepth,
  ResolvedWorkerOptions,
  RetryResult,
  RunHandler,
  RunInterrupted,
  RedisNodeHealth,
  RunRequest,
  TransportHealth,
} from '../../core';
import { isEnvelope, JobEnvelope, ResultEnvelope } from './bullmq-envelope';
import { captureTraceContext, runInTraceContext } from './bullmq-trace';
import { BullmqWorker } from './bullmq-worker';
import { RedisClient, RedisConnectionFactory } from './redis-connection';

export interface BullmqTransportConfig {
  connection: BullmqConnection;
  /** @default 'bull' */
  prefix?: string;
  /**
   * Stall settings: lockDurationMs and maxStalledCount are BullMQ's Worker options of the same meaning;
   * stalledIntervalMs is the longest gap between stalled checks, so BullMQ checks every half of it (see below).
   */
  worker: ResolvedWorkerOptions | false;
  /**
   * How long boot waits for Redis before failing with one clear error.
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * How often each instance checks that Redis still holds its schedules (a sentinel key), re-asserting
   * schedulers and pause flags when Redis came back empty.
   * @default 2000
   */
  healIntervalMs?: number;
}

const FINAL_STATES = new Set<JobState>(['completed', 'failed', 'cancelled', 'skipped']);

const ALL_STATES: JobState[] = ['pending', 'delayed', 'running', 'completed', 'failed', 'cancelled', 'skipped'];

/** BullMQ lists holding runs of each framework state. */
const BULL_TYPES_OF: Record<JobState, JobType[]> = {
  pending: ['waiting', 'prioritized', 'waiting-children'],
  delayed: ['delayed'],
  running: ['active'],
  completed: ['completed'],
  skipped: ['completed'],
  failed: ['failed'],
  cancelled: ['failed'],
};

/** Newest runs read per queue and BullMQ state when listing; bounded like the default history. */
const LIST_SCAN_LIMIT = 5_000;

/**
 * Runs jobs on plain BullMQ: one queue per `queue` name under the prefix, one job scheduler per recurring id,
 * one Worker per queue on consumer instances.
 */
export class BullmqTransport extends JobTransport {
  private readonly logger = new Logger('BackgroundJobs');
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];
  /** Runs executing on this instance, by execution id: what a cancel message aborts. */
  private readonly running = new Map<string, LazyAbortController>();
  /** Cancel messages for ids not running here yet (the window between BullMQ's moveToActive and our processor). */
  private readonly earlyCancels = new Map<string, number>();
  private subscriber?: RedisClient;
  private healTimer?: NodeJS.Timeout;
  private healing?: Promise<void>;
  /** Pause flags as this instance last knew them, to write back if Redis loses them. */
  private readonly knownPaused = new Map<string, string>();
  private registry?: JobRegistry;
  private closing?: Promise<void>;
  private opsRedis?: RedisClient;
  /** What Workers duplicate on a cluster or with the host's client; never connected itself. */
  private workerTemplate?: RedisClient;
  readonly connections: RedisConnectionFactory;

  constructor(private readonly config: BullmqTransportConfig) {
    super();
    // NOTE: validates transport.connection here, at DI time: a bad key stops the boot before any connection.
    this.connections = new RedisConnectionFactory(config.connection);
  }

  get prefix(): string {
    return this.config.prefix ?? 'bull';
  }

  /**
   * On a Redis Cluster BullMQ needs every key of a queue in one hash slot. A prefix without a hash tag gets one per
   * queue (`<prefix>:{<queue>}`), so different queues spread over the shards; a prefix with its own tag
   * (`{bull}`) keeps everything in that one slot, as the user asked. One server or Sentinel: the prefix as given.
   */
  queuePrefix(queue: string): string {
    return this.hashTagged ? `${this.prefix}:{${queue}}` : this.prefix;
  }

  private get hashTagged(): boolean {
    return this.connections.isCluster && !/\{[^}]+\}/.test(this.prefix);
  }

  async start(registry: JobRegistry, run: RunHandler): Promise<void> {
    this.registry = registry;
    await this.assertReachable();
    await this.reconcile(registry);
    this.watchForEmptyRedis(registry);
    if (!this.config.worker) return;
    await this.subscribeToCancels();
    for (const name of registry.queues()) {
      // NOTE: a two-argument processor: with a third (`signal`) BullMQ makes an AbortController per job, which it
      // aborts only on Worker.cancelJob/cancelAllJobs, never called here (cancel goes through our own channel).
      // That controller was a measurable share of the per-run cost (bench/README.md).
      const worker = new BullmqWorker(name, (job, token) => this.process(job, run, token), {
        connection: this.bullConnection('worker'),
        prefix: this.queuePrefix(name),
        concurrency: this.config.worker.concurrency,
        lockDuration: this.config.worker.lockDurationMs,
        // NOTE: BullMQ gates its stalled check with a key that lives one interval, so a check that lands on the
        // key's last millisecond (its own previous one, or a dead instance's) is skipped and the real gap between
        // checks is up to two intervals. Checking every half of stalledIntervalMs keeps that gap within it, and a
        // dead instance's run is handed back within lockDurationMs + stalledIntervalMs (reliability suite). Boot
        // validation keeps stalledIntervalMs ≥ 100, so the half is never 0.
        stalledInterval: Math.floor(this.config.worker.stalledIntervalMs / 2),
        maxStalledCount: this.config.worker.maxStalledCount,
      });
      worker.on('error', (error) => this.logger.error(`Worker for queue "${name}" failed: ${error.message}`));
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
  }

  async enqueue(definition: JobDefinition, run: OutgoingRun): Promise<string> {
    const envelope: JobEnvelope = { bgj: 1, tenantId: run.tenantId };
    if (run.data !== undefined) envelope.payload = run.data;
    if (run.fanOut) envelope.fanOut = true;
    const trace = captureTraceContext();
    if (trace) envelope.trace = trace;
    // NOTE: fields added to the fresh options object, not spread into a new one: that spread was ≈ 4 µs of CPU per
    // enqueue, all of what this library added to Queue.add (bench/README.md).
    const options = this.jobOptions(definition);
    options.jobId = randomUUID();
    options.delay = run.delayMs;
    if (run.dedupeKey) options.deduplication = { id: `${definition.id}:${run.dedupeKey}` };
    const job = await this.queue(definition.queue).add(definition.id, envelope, options);
    return job.id as string;
  }

  async enqueueMany(definition: JobDefinition, runs: IdentifiedRun[]): Promise<string[]> {
    if (runs.length === 0) return [];
    const options = this.jobOptions(definition);
    const jobs = await this.queue(definition.queue).addBulk(
      runs.map((run) => {
        const data: JobEnvelope = { bgj: 1, tenantId: run.tenantId };
        if (run.data !== undefined) data.payload = run.data;
        return { name: definition.id, data, opts: { ...options, jobId: run.id } };
      }),
    );
    return jobs.map((job) => job.id as string);
  }

  async getExecution(executionId: string): Promise<JobExecution | null> {
    for (const queue of this.knownQueues()) {
      // NOTE: state first, then the hash: a job seen finished is read with its return value and failure.
      const state = await queue.getJobState(executionId);
      if (state === 'unknown') continue;
      const job = await queue.getJob(executionId);
      if (job) return this.toExecution(job, state);
    }
    const tombstone = await this.redis().get(this.key('cancelled', executionId));
    return tombstone ? reviveExecution(tombstone) : null;
  }

  async waitForFinal(executionId: string, timeoutMs: number): Promise<JobExecution> {
    const deadline = Date.now() + timeoutMs;
    let pause = 10;
    for (;;) {
      const execution = await this.getExecution(executionId);
      if (execution && FINAL_STATES.has(execution.state)) return execution;
      if (Date.now() >= deadline) throw new Error('wait-timeout');
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(1, deadline - Date.now()))));
      pause = Math.min(pause * 2, 200);
    }
  }

  async listRecurring(registry: JobRegistry): Promise<RecurringJobInfo[]> {
    const paused = await this.pausedIds();
    const lastRuns = await this.lastRunIds();
    return Promise.all(
      registry.recurring().map(async (definition) => {
        const scheduler = await this.queue(definition.queue).getJobScheduler(definition.id);
        const info: RecurringJobInfo = {
          jobId: definition.id,
          cron: definition.cron as string,
          timezone: definition.timezone,
          queue: definition.queue,
          tenancy: definition.tenancy,
          enabled: definition.enabled,
          paused: paused.has(definition.id),
          nextRunAt: scheduler?.next ? new Date(scheduler.next) : undefined,
        };
        const last = lastRuns.get(definition.id) ? await this.getExecution(lastRuns.get(definition.id) as string) : null;
        if (last) info.lastRun = { executionId: last.executionId, state: last.state, startedAt: last.startedAt, finishedAt: last.finishedAt };
        return info;
      }),
    );
  }

  async cancel(executionId: string): Promise<boolean> {
    const found = await this.findJob(executionId);
    if (!found) return false;
    const { job } = found;
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children') {
      const snapshot = this.toExecution(job, state);
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
        failure: { kind: 'cancelled', message: 'Cancelled before it started.' },
      };
      const ttl = this.registry?.get(job.name)?.history.failed.maxAgeSeconds ?? 604_800;
      await this.redis().set(this.key('cancelled', executionId), JSON.stringify(cancelled), 'EX', ttl);
      return true;
    }
    if (state === 'active') return this.cancelRunning(executionId);
    return false;
  }

  /** Aborts a running run wherever it runs: every worker instance listens on one channel. */
  private async cancelRunning(executionId: string): Promise<boolean> {
    await this.redis().publish(this.key('cancel'), executionId);
    return true;
  }

  private async subscribeToCancels(): Promise<void> {
    this.subscriber = this.client();
    this.subscriber.on('message', (_channel: string, executionId: string) => {
      const reason = new JobAbortedError('cancelled', `Execution ${executionId} was cancelled on request.`);
      const controller = this.running.get(executionId);
      if (controller) controller.abort(reason);
      else {
        const now = Date.now();
        for (const [id, at] of this.earlyCancels) if (now - at > 60_000) this.earlyCancels.delete(id);
        this.earlyCancels.set(executionId, now);
      }
    });
    await this.subscriber.subscribe(this.key('cancel'));
  }

  async listExecutions(query: ExecutionQuery): Promise<ExecutionPage> {
    const bullTypes = new Set((query.states ?? ALL_STATES).flatMap((state) => BULL_TYPES_OF[state]));
    const matches: JobExecution[] = [];
    for (const queue of this.knownQueues()) {
      for (const type of bullTypes) {
        const jobs = await queue.getJobs([type], 0, LIST_SCAN_LIMIT - 1, false);
        for (const job of jobs) {
          if (!job?.id) continue;
          if (query.jobId !== undefined && job.name !== query.jobId) continue;
          const execution = this.toExecution(job, type === 'waiting-children' ? 'waiting' : type);
          if (query.states && !query.states.includes(execution.state)) continue;
          if (query.tenantId !== undefined && execution.tenantId !== query.tenantId) continue;
          matches.push(execution);
        }
      }
    }
    matches.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.executionId.localeCompare(a.executionId));
    return { items: matches.slice(query.offset, query.offset + query.limit), total: matches.length, offset: query.offset, limit: query.limit };
  }

  async getExecutionLogs(executionId: string, limit: number): Promise<{ lines: string[]; count: number } | null> {
    const found = await this.findJob(executionId);
    if (!found) return null;
    const { logs, count } = await found.queue.getJobLogs(executionId, Math.max(0, -limit), -1, true);
    return { lines: logs.slice(-limit), count };
  }

  async retry(executionId: string): Promise<RetryResult> {
    const found = await this.findJob(executionId);
    if (!found) return { status: 'unknown' };
    const bullState = await found.job.getState();
    const state = bullState === 'unknown' ? undefined : this.toExecution(found.job, bullState).state;
    if (state !== 'failed') return { status: 'not-failed', state: state ?? 'pending' };
    await found.job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return { status: 'retried' };
  }

  async pause(definition: JobDefinition): Promise<void> {
    const queue = this.queue(definition.queue);
    const flag = JSON.stringify({ pausedAt: new Date().toISOString() });
    await this.redis().hset(this.pausedKey, definition.id, flag);
    this.knownPaused.set(definition.id, flag);
    await queue.removeJobScheduler(definition.id);
    this.logger.log(`Paused recurring job "${definition.id}".`);
  }

  async resume(definition: JobDefinition): Promise<void> {
    const wasPaused = (await this.redis().hdel(this.pausedKey, definition.id)) === 1;
    this.knownPaused.delete(definition.id);
    // NOTE: resuming a running job leaves its schedule alone, unless the scheduler went missing (e.g. Redis was emptied).
    if (!wasPaused && (await this.queue(definition.queue).getJobScheduler(definition.id))) return;
    await this.upsertScheduler(definition);
    this.logger.log(`Resumed recurring job "${definition.id}".`);
  }

  async queueDepths(): Promise<QueueDepth[]> {
    return Promise.all(
      this.knownQueues().map(async (queue) => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
        return {
          queue: queue.name,
          waiting: counts.waiting ?? 0,
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
          prioritized: counts.prioritized ?? 0,
          completed: counts.completed ?? 0,
          failed: counts.failed ?? 0,
        };
      }),
    );
  }

  async health(): Promise<TransportHealth> {
    const workersExpected = this.config.worker ? (this.registry?.queues().length ?? 0) : 0;
    const workersRunning = this.workers.filter((worker) => worker.isRunning()).length;
    try {
      const redis = this.redis();
      if (redis instanceof Cluster || redis.isCluster) return await this.clusterHealth(redis as Cluster, workersExpected, workersRunning);
      await redis.ping();
      const info = await redis.info('memory');
      const health: TransportHealth = { store: 'redis', reachable: true, maxmemoryPolicy: maxmemoryPolicyOf(info), workersExpected, workersRunning, queues: await this.queueDepths() };
      // NOTE: the socket's peer is the master the sentinels named (ioredis reconnects there after a failover).
      const stream = (redis as IORedis).stream;
      if ((redis as IORedis).options.sentinels && stream?.remoteAddress) health.master = `${stream.remoteAddress}:${stream.remotePort}`;
      return health;
    } catch (error) {
      return { store: 'redis', reachable: false, error: (error as Error).message, workersExpected, workersRunning, queues: [] };
    }
  }

  /**
   * Every node of the cluster with its role and reachability as the cluster itself sees them (CLUSTER NODES: the
   * gossip of all nodes, replicas included, with no extra connection), plus a PING and the memory policy of each
   * master this client is connected to. Reachable when every master answered.
   */
  private async clusterHealth(cluster: Cluster, workersExpected: number, workersRunning: number): Promise<TransportHealth> {
    const nodes: RedisNodeHealth[] = String(await cluster.call('CLUSTER', 'NODES'))
      .trim()
      .split('\n')
      .map((line) => {
        const [, address, flags, , , , , linkState] = line.split(' ');
        const flagSet = new Set(flags.split(','));
        const failed = ['fail', 'fail?', 'noaddr', 'handshake'].find((flag) => flagSet.has(flag));
        const linked = flagSet.has('myself') || linkState === 'connected';
        const node: RedisNodeHealth = { address: address.split('@')[0], role: flagSet.has('master') ? 'master' : 'replica', reachable: !failed && linked };
        if (!node.reachable) node.error = failed ? `flagged ${failed} by the cluster` : 'cluster bus link disconnected';
        return node;
      })
      .sort((a, b) => a.address.localeCompare(b.address));
    const policies = await Promise.all(
      cluster.nodes('master').map(async (master) => {
        const address = `${master.options.host}:${master.options.port}`;
        try {
          return maxmemoryPolicyOf(await master.info('memory'));
        } catch (error) {
          const known = nodes.find((node) => node.address === address);
          if (known) Object.assign(known, { reachable: false, error: (error as Error).message });
          return undefined;
        }
      }),
    );
    const unreachableMasters = nodes.filter((node) => node.role === 'master' && !node.reachable);
    const known = policies.filter((policy): policy is string => !!policy);
    const health: TransportHealth = {
      store: 'redis',
      reachable: unreachableMasters.length === 0,
      maxmemoryPolicy: known.find((policy) => policy !== 'noeviction') ?? known[0],
      workersExpected,
      workersRunning,
      queues: unreachableMasters.length === 0 ? await this.queueDepths() : [],
      nodes,
    };
    if (unreachableMasters.length > 0) health.error = unreachableMasters.map((node) => `${node.address}: ${node.error}`).join('; ');
    return health;
  }

  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  /** Fails boot with one clear line, in bounded time, when Redis is unreachable or refuses the credentials. */
  private async assertReachable(): Promise<void> {
    const timeoutMs = this.config.connectTimeoutMs ?? 10_000;
    // NOTE: a short disconnectTimeout: after a refused connection ioredis otherwise keeps a 2 s timer alive, and a
    // host whose boot failed would linger that long before exiting.
    const shared = this.connections.shared;
    const client = shared ?? this.connections.create('probe', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      failFast: true,
      connectTimeout: timeoutMs,
      disconnectTimeout: 100,
    });
    let lastError: Error | undefined;
    const onError = (error: Error) => {
      lastError = error;
    };
    client.on('error', onError);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (shared ? Promise.resolve() : client.connect()).then(() => client.ping()),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      const cause = (lastError ?? (error as Error)).message.replace(/\.$/, '');
      throw new Error(
        `BackgroundJobs cannot use Redis at ${this.connections.describe()}: ${cause}. ` +
          'Fix: start Redis there, or correct transport.connection (url, password).',
      );
    } finally {
      if (timer) clearTimeout(timer);
      client.off('error', onError);
      if (!shared) client.disconnect();
    }
  }

  /** What this instance writes back should Redis come back empty: the pause flags as Redis holds them now. */
  private rememberPaused(flags: Record<string, string>): void {
    this.knownPaused.clear();
    for (const [id, flag] of Object.entries(flags)) this.knownPaused.set(id, flag);
  }

  /** One job scheduler per recurring id: create, update on change, remove the stale and the replaced. */
  private async reconcile(registry: JobRegistry): Promise<void> {
    this.rememberPaused(await this.redis().hgetall(this.pausedKey));
    for (const name of registry.queues()) {
      const queue = this.queue(name);
      const desired = registry.recurring().filter((definition) => definition.queue === name);
      const existing = await queue.getJobSchedulers(0, -1);
      const current = new Map(existing.map((scheduler) => [schedulerId(scheduler), scheduler]));
      const paused = await this.pausedIds();
      for (const definition of desired) {
        const scheduler = current.get(definition.id);
        // NOTE: a pause is cluster-wide: an instance booting later must not bring the schedule back.
        if (paused.has(definition.id)) {
          if (scheduler) await queue.removeJobScheduler(definition.id);
          this.logger.log(`Recurring job "${definition.id}" is paused: no schedule until it is resumed.`);
          continue;
        }
        if (scheduler && isEnvelope(scheduler.template?.data) && scheduler.template.data.fp === fingerprint(definition)) continue;
        await this.upsertScheduler(definition);
        this.logger.log(`${scheduler ? 'Updated' : 'Registered'} recurring job "${definition.id}" (${definition.cron} ${definition.timezone}) on queue "${name}".`);
      }
      const wanted = new Set(desired.map((definition) => definition.id));
      for (const scheduler of existing) {
        const id = schedulerId(scheduler);
        if (!wanted.has(id) && isEnvelope(scheduler.template?.data)) {
          await queue.removeJobScheduler(id);
          this.logger.log(`Removed recurring job "${id}" from queue "${name}": no such job in this app any more.`);
        }
      }
    }
    // NOTE: a disabled job is the rollback flag of a cutover: it leaves the legacy schedulers it replaces alone.
    for (const definition of registry.all().filter((d) => d.enabled)) {
      for (const legacyId of definition.replaces) {
        if (await this.queue(definition.queue).removeJobScheduler(legacyId)) {
          this.logger.log(`Removed legacy scheduler "${legacyId}": replaced by "${definition.id}".`);
        }
      }
    }
    await this.redis().set(this.key('alive'), String(Date.now()));
    if (this.hashTagged) for (const name of registry.queues()) await this.redis().set(this.queueAliveKey(name), String(Date.now()));
  }

  /**
   * Self-healing: Redis restarted without persistence, flushed, or failed over to an empty replica loses the
   * schedulers and pause flags. Every instance checks a sentinel key (on reconnect and every healIntervalMs)
   * and, when it is gone, writes its pause flags back and reconciles again: no app restart needed.
   */
  private watchForEmptyRedis(registry: JobRegistry): void {
    const check = () => {
      this.healing ??= this.healIfEmpty(registry).finally(() => (this.healing = undefined));
    };
    this.healTimer = setInterval(check, this.config.healIntervalMs ?? 2_000);
    this.healTimer.unref();
    this.redis().on('ready', check);
  }

  private async healIfEmpty(registry: JobRegistry): Promise<void> {
    if (this.closing) return;
    try {
      // NOTE: one atomic read of the sentinel and the pause flags: while Redis holds its data, every instance
      // refreshes what it knows of pauses made elsewhere, so whichever instance heals first writes them all back.
      const replies = await this.redis().multi().exists(this.key('alive')).hgetall(this.pausedKey).exec();
      const [alive, flags] = (replies ?? []).map(([error, value]) => {
        if (error) throw error;
        return value;
      }) as [number, Record<string, string>];
      const queuesAlive = this.hashTagged
        ? await Promise.all(registry.queues().map(async (name) => (await this.redis().exists(this.queueAliveKey(name))) === 1))
        : [];
      if (alive === 1 && queuesAlive.every(Boolean)) {
        this.rememberPaused(flags);
        return;
      }
      this.logger.warn('Redis lost the schedules (restart without persistence, flush or failover): re-asserting them.');
      if (this.knownPaused.size > 0) await this.redis().hset(this.pausedKey, Object.fromEntries(this.knownPaused));
      await this.reconcile(registry);
      this.logger.log('Schedules re-asserted.');
    } catch (error) {
      this.logger.debug(`Schedule check skipped: ${(error as Error).message}`);
    }
  }


  private async process(job: Job, run: RunHandler, token?: string): Promise<ResultEnvelope> {
    const definition = this.registry?.get(job.name);
    if (!definition) {
      throw new UnrecoverableError(
        `No @PipelineJob "${job.name}" is registered on this instance; the queue belongs to nestjs-background-jobs.`,
      );
    }
    const executionId = job.id as string;
    const envelope: JobEnvelope = isEnvelope(job.data) ? job.data : { bgj: 1, tenantId: null, payload: job.data };
    // NOTE: first attempts only: a retry waits out its backoff by design and may start after the next tick was due;
    // that is the retry policy at work, not a tick missed while no instance was running.
    const missed = job.repeatJobKey && job.attemptsMade === 0 && definition.misfire === 'skip' ? missedTicks(definition, job) : 0;
    if (missed > 0) {
      this.logger.warn(`Skipped a run of "${definition.id}": ${missed} later tick(s) were already due when it started (misfire: 'skip').`);
      return { bgj: 1, outcome: 'skipped', reason: `misfire: ${missed} later tick(s) were missed while no instance was running` };
    }
    // NOTE: a tick queued before the pause landed must not run either.
    if (job.repeatJobKey && (await this.isPaused(job.name))) {
      return { bgj: 1, outcome: 'skipped', reason: `Job "${job.name}" is paused.` };
    }
    if (definition.cron) await this.recordLastRun(job);
    const controller = new LazyAbortController();
    this.running.set(executionId, controller);
    if (this.earlyCancels.delete(executionId)) {
      controller.abort(new JobAbortedError('cancelled', `Execution ${executionId} was cancelled on request.`));
    }
    const request: RunRequest = {
      executionId,
      attempt: job.attemptsMade + 1,
      tenantId: envelope.tenantId ?? null,
      data: envelope.payload,
      scheduledAt: scheduledAtOf(job),
      controller,
      fanOut: envelope.fanOut === true,
      reportProgress: async (percent, message) => {
        await job.updateProgress(percent);
        if (message) await job.log(message);
      },
      log: async (message) => {
        await job.log(message);
      },
    };
    try {
      const outcome = await runInTraceContext(envelope.trace, definition.id, request.executionId, () => run(definition, request));
      if (envelope.failure) await job.updateData({ ...envelope, failure: undefined });
      return outcome.status === 'skipped'
        ? { bgj: 1, outcome: 'skipped', reason: outcome.reason }
        : { bgj: 1, outcome: 'completed', value: outcome.value };
    } catch (error) {
      if (error instanceof RunInterrupted) {
        // NOTE: shutdown is not a failure: hand the job back (no attempt used) so another instance runs it.
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError(error.message);
      }
      if (!(error instanceof JobRunFailure)) throw error;
      await job
        .updateData({ ...envelope, failure: { kind: error.kind, message: error.message } })
        .catch((e: Error) => this.logger.warn(`Could not record the failure kind of ${job.id}: ${e.message}`));
      if (error.retry) throw error;
      throw new UnrecoverableError(error.message);
    } finally {
      this.running.delete(executionId);
    }
  }

  private toExecution(job: Job, bullState: string): JobExecution {
    const envelope = isEnvelope(job.data) ? job.data : undefined;
    const result = job.returnvalue as ResultEnvelope | null | undefined;
    let state: JobState;
    switch (bullState) {
      case 'completed':
        state = result?.outcome === 'skipped' ? 'skipped' : 'completed';
        break;
      case 'failed':
        state = envelope?.failure?.kind === 'cancelled' ? 'cancelled' : 'failed';
        break;
      case 'active':
        state = 'running';
        break;
      case 'delayed':
        state = 'delayed';
        break;
      default:
        state = 'pending';
    }
    const execution: JobExecution = {
      executionId: job.id as string,
      jobId: job.name,
      tenantId: envelope?.tenantId ?? null,
      state,
      attempts: job.attemptsStarted ?? job.attemptsMade,
      data: envelope ? envelope.payload : job.data,
      createdAt: new Date(job.timestamp),
    };
    if (state === 'completed' && result?.outcome === 'completed') execution.result = result.value;
    if (state === 'skipped' && result?.outcome === 'skipped') execution.skipReason = result.reason;
    if (state === 'failed' || state === 'cancelled') {
      execution.failure = envelope?.failure ?? { kind: 'transient', message: job.failedReason };
    }
    if (typeof job.progress === 'number') execution.progress = job.progress;
    if (job.processedOn) execution.startedAt = new Date(job.processedOn);
    if (job.finishedOn) execution.finishedAt = new Date(job.finishedOn);
    const scheduledAt = scheduledAtOf(job);
    if (scheduledAt) execution.scheduledAt = scheduledAt;
    return execution;
  }

  private async findJob(executionId: string): Promise<{ job: Job; queue: Queue } | null> {
    for (const queue of this.knownQueues()) {
      const job = await queue.getJob(executionId);
      if (job) return { job, queue };
    }
    return null;
  }

  private knownQueues(): Queue[] {
    return (this.registry?.queues() ?? [...this.queues.keys()]).map((name) => this.queue(name));
  }

  private jobOptions(definition: JobDefinition): JobsOptions {
    const { retry, history } = definition;
    return {
      attempts: retry.attempts,
      backoff: { type: 'exponential', delay: retry.backoffMs },
      removeOnComplete: { count: history.completed.count, age: history.completed.maxAgeSeconds },
      removeOnFail: { count: history.failed.count, age: history.failed.maxAgeSeconds },
    };
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.bullConnection('queue'), prefix: this.queuePrefix(name) });
      queue.on('error', (error) => this.logger.error(`Queue "${name}" failed: ${error.message}`));
      this.queues.set(name, queue);
    }
    return queue;
  }

  private async upsertScheduler(definition: JobDefinition): Promise<void> {
    const data: JobEnvelope = { bgj: 1, tenantId: null, fp: fingerprint(definition) };
    if (definition.tenancy === 'per-tenant') data.fanOut = true;
    await this.queue(definition.queue).upsertJobScheduler(
      definition.id,
      { pattern: definition.cron, tz: definition.timezone },
      { name: definition.id, data, opts: this.jobOptions(definition) },
    );
  }

  private get pausedKey(): string {
    return this.key('paused');
  }

  private get lastRunKey(): string {
    return this.key('last-run');
  }

  /** The framework's own keys (paused ids, last runs) live beside the queues, on a client of their own. */
  private redis(): RedisClient {
    if (!this.opsRedis) {
      // NOTE: ioredis' retry defaults, as BullMQ gives its own Queue clients: an enqueue rides out a short reconnect.
      // The health indicator bounds its own wait.
      this.opsRedis = this.connections.shared ?? this.connections.create('commands');
      if (this.opsRedis !== this.connections.shared) this.opsRedis.on('error', (error: Error) => this.logger.debug(`Redis: ${error.message}`));
    }
    return this.opsRedis;
  }

  /**
   * What BullMQ Queues and Workers take as `connection`. Every Queue shares the commands client (BullMQ lets
   * non-blocking Queues share an instance and never closes it): one connection for all queues and the framework's
   * keys instead of one per queue plus one. A Worker needs connections of its own (a blocking one and one for its
   * commands): options for one server or Sentinel, which BullMQ turns into clients it closes; otherwise a lazy
   * template that BullMQ duplicates and that never connects itself.
   */
  private bullConnection(role: 'queue' | 'worker'): ConnectionOptions {
    if (role === 'queue') return this.redis();
    const target = this.connections.target;
    // NOTE: ioredis' and BullMQ's option types differ in details only (BullMQ passes these on to ioredis).
    if (target.kind === 'server') return (target.url ? { url: target.url, ...target.options } : target.options) as ConnectionOptions;
    if (target.kind === 'sentinel') return target.options as ConnectionOptions;
    // NOTE: a Worker refuses an instance whose maxRetriesPerRequest is not null (it blocks on it).
    this.workerTemplate ??= this.connections.create('worker', { maxRetriesPerRequest: null, lazyConnect: true });
    return this.workerTemplate;
  }

  private async pausedIds(): Promise<Set<string>> {
    const redis = this.redis();
    return new Set(Object.keys(await redis.hgetall(this.pausedKey)));
  }

  private async isPaused(jobId: string): Promise<boolean> {
    const redis = this.redis();
    return (await redis.hexists(this.pausedKey, jobId)) === 1;
  }

  private async lastRunIds(): Promise<Map<string, string>> {
    const redis = this.redis();
    return new Map(Object.entries(await redis.hgetall(this.lastRunKey)));
  }

  private async recordLastRun(job: Job): Promise<void> {
    // NOTE: called for recurring jobs only: one extra write per tick is cheap, one per enqueued job is not.
    if (job.attemptsMade > 0) return;
    const redis = this.redis();
    await redis.hset(this.lastRunKey, job.name, job.id as string).catch((e: Error) => this.logger.warn(`Could not record the last run of "${job.name}": ${e.message}`));
  }

  /**
   * Graceful, bounded shutdown: stop taking work, let running jobs finish within the grace period, abort the
   * rest (they are handed back to the queue), then close workers, queues and connections. Every step runs even
   * when one fails, and the whole thing returns within grace + ~2 s even when Redis is unreachable.
   */
  private async closeAll(): Promise<void> {
    if (this.healTimer) clearInterval(this.healTimer);
    const grace = this.config.worker ? this.config.worker.shutdownGraceMs : 0;
    // NOTE: grace + 1 s for the orderly close, then at most 2 × 200 ms of cut-off steps (run in parallel below):
    // the whole close stays under grace + 2 s even with Redis unreachable.
    const hardDeadline = Date.now() + grace + 1_000;
    const remaining = () => Math.max(0, hardDeadline - Date.now());
    const step = async (label: string, action: () => Promise<unknown>, ms: number): Promise<void> => {
      try {
        if (!(await finishesWithin(action(), ms))) this.logger.warn(`Closing: ${label} did not finish in ${ms} ms; going on.`);
      } catch (error) {
        this.logger.error(`Closing: ${label} failed: ${(error as Error).message}`);
      }
    };
    // NOTE: close() first: it stops the fetch loop at once (pause() does not stop a fetch already in flight),
    // then waits for the running jobs, which the grace period below bounds.
    const workersClosed = this.workers.map((worker) => worker.close());
    if (this.running.size > 0) {
      await step(`waiting for ${this.running.size} running job(s)`, () => this.allRunsSettled(Date.now() + grace), grace);
      for (const [id, controller] of this.running) {
        controller.abort(new JobAbortedError('shutdown', `Instance shutting down: execution ${id} handed back after a ${grace} ms grace period.`));
      }
    }
    await Promise.all(workersClosed.map((closed, i) => step(`worker ${this.workers[i].name}`, () => closed, remaining())));
    await Promise.all([...this.queues.values()].map((queue) => step(`queue ${queue.name}`, () => queue.close(), remaining())));
    // NOTE: whatever did not close in time (Redis unreachable) is cut off, so the process can exit. BullMQ's close()
    // stops its stalled-job checker only after Redis answers; pause(true) stops that timer loop without Redis.
    await Promise.all(this.workers.map((worker) => step('stalled checker', () => worker.pause(true), 200)));
    // NOTE: not the Queues: they share the commands client (or the host's), and BullMQ's Queue.disconnect() would
    // close it although the Queue does not own it. It is disconnected below, unless it is the host's.
    await Promise.all(this.workers.map((worker) => step('disconnect', () => worker.disconnect(), 200)));
    this.subscriber?.disconnect();
    if (this.opsRedis !== this.connections.shared) this.opsRedis?.disconnect();
    this.workerTemplate?.disconnect();
  }

  /** Polls until no run is left or `until` passes: a poll that outlived the grace period would keep the process alive. */
  private async allRunsSettled(until: number): Promise<void> {
    while (this.running.size > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  private client(): RedisClient {
    const client = this.connections.create('subscriber', { maxRetriesPerRequest: null });
    client.on('error', (error: Error) => this.logger.debug(`Redis: ${error.message}`));
    return client;
  }

  /**
   * The framework's own keys. On a cluster they share one slot (`{<prefix>:bgj}:…`): the schedule check reads the
   * sentinel and the pause flags in one MULTI.
   */
  private key(...parts: string[]): string {
    return [this.hashTagged ? `{${this.prefix}:bgj}` : `${this.prefix}:bgj`, ...parts].join(':');
  }

  /** Per-queue sentinel on a cluster: the shard holding a queue's schedulers can lose its data alone. */
  private queueAliveKey(queue: string): string {
    return `${this.queuePrefix(queue)}:bgj:alive`;
  }
}

/**
 * Ticks that fell due after this scheduled run's own tick and before now (with a second of slack for a busy
 * worker): more than zero means the run is a leftover from a time no instance was running.
 */
function missedTicks(definition: JobDefinition, job: Job): number {
  const scheduledAt = scheduledAtOf(job);
  if (!scheduledAt || !definition.cron) return 0;
  const now = Date.now() - 1_000;
  const ticks = CronExpressionParser.parse(definition.cron, { tz: definition.timezone, currentDate: scheduledAt });
  let missed = 0;
  while (missed < 100 && ticks.next().getTime() <= now) missed += 1;
  return missed;
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

function maxmemoryPolicyOf(info: string): string | undefined {
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
}

function reviveExecution(json: string): JobExecution {
  const raw = JSON.parse(json) as JobExecution & Record<string, unknown>;
  for (const field of ['createdAt', 'startedAt', 'finishedAt', 'scheduledAt'] as const) {
    if (typeof raw[field] === 'string') (raw as Record<string, unknown>)[field] = new Date(raw[field] as unknown as string);
  }
  return raw;
}

/** The tick a scheduler job was made for (`prevMillis`), or the time a delayed job was due. */
function scheduledAtOf(job: Job): Date | undefined {
  const opts = job.opts as JobsOptions & { prevMillis?: number };
  if (typeof opts.prevMillis === 'number') return new Date(opts.prevMillis);
  if (opts.delay) return new Date(job.timestamp + opts.delay);
  return undefined;
}

const schedulerId = (scheduler: JobSchedulerJson): string => scheduler.key ?? scheduler.id ?? scheduler.name;

/** What, when changed, must rewrite a scheduler. */
function fingerprint(definition: JobDefinition): string {
  const { cron, timezone, retry, history, tenancy } = definition;
  return createHash('sha1')
    .update(JSON.stringify([cron, timezone, retry, history, tenancy]))
    .digest('hex')
    .slice(0, 16);
}
