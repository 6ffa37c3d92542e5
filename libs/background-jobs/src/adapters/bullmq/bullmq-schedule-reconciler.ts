import { Logger } from '@nestjs/common';
import { RecurringJobInfo } from '../../contracts';
import {
  decoratorSchedule,
  DEFAULTS,
  JobDefinition,
  JobRegistry,
  recurringInfo,
  ScheduleSpec,
  ScheduleStore,
} from '../../core';
import { BullmqConnections } from './bullmq-connections';
import { BullmqRuntimeSchedules } from './bullmq-runtime-schedules';
import { BullmqWorkerPresence } from './bullmq-worker-presence';
import { BullmqKeys } from './bullmq-keys';
import { BullmqQueues } from './bullmq-queues';
import { describeTiming } from './bullmq-scheduler';
import { BullmqSchedulerSync } from './bullmq-scheduler-sync';

export interface BullmqScheduleConfig {
  /**
   * How often each instance checks that Redis still holds its schedules (a sentinel key), re-asserting
   * schedulers and pause flags when Redis came back empty; DEFAULTS.healIntervalMs when absent.
   */
  healIntervalMs?: number;
  /** Whether this instance runs workers: only then does it mark worker presence (misfire tells downtime from busy). */
  worker?: boolean;
}

/**
 * Recurring jobs on BullMQ's job schedulers: one per recurring id, reconciled at boot; pause flags and last runs
 * in the framework's own keys; self-healing when Redis comes back empty.
 */
export class BullmqScheduleReconciler extends ScheduleStore {
  private readonly logger = new Logger('BackgroundJobs');
  /** Pause flags as this instance last knew them, to write back if Redis loses them. */
  private readonly knownPaused = new Map<string, string>();
  private readonly runtimeSchedules: BullmqRuntimeSchedules;
  private readonly presence: BullmqWorkerPresence;
  private readonly schedulers: BullmqSchedulerSync;
  private registry?: JobRegistry;
  private healTimer?: NodeJS.Timeout;
  private healing?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly queues: BullmqQueues,
    private readonly connections: BullmqConnections,
    private readonly keys: BullmqKeys,
    private readonly config: BullmqScheduleConfig = {},
  ) {
    super();
    this.runtimeSchedules = new BullmqRuntimeSchedules(connections, keys);
    this.presence = new BullmqWorkerPresence(connections, keys);
    this.schedulers = new BullmqSchedulerSync(queues, connections, keys, this.runtimeSchedules);
  }

  private get redis() {
    return this.connections.commands();
  }

  /** One job scheduler per recurring id: create, update on change, remove the stale and the replaced; then keep healing. */
  async reconcile(registry: JobRegistry): Promise<void> {
    this.registry = registry;
    this.queues.use(registry);
    await this.connections.assertReachable();
    await this.reconcileOnce(registry);
    this.watchForEmptyRedis();
    if (this.config.worker) await this.presence.start();
  }

  workersUpSince(): Promise<number | undefined> {
    return this.presence.upSince();
  }

  async listRecurring(registry: JobRegistry): Promise<RecurringJobInfo[]> {
    const paused = await this.schedulers.pausedIds();
    const runtime = (await this.runtimeSchedules.all()).flatMap(({ spec }) => {
      const definition = registry.get(spec.jobId);
      return definition ? [{ definition, spec }] : [];
    });
    const all = [
      ...registry.recurring().map((definition) => ({ definition, spec: decoratorSchedule(definition) })),
      ...runtime,
    ];
    return Promise.all(
      all.map(async ({ definition, spec }) => {
        const scheduler = await this.queues.get(definition.queue).getJobScheduler(spec.id);
        return recurringInfo(
          definition,
          spec,
          paused.has(spec.id),
          scheduler?.next ? new Date(scheduler.next) : undefined,
        );
      }),
    );
  }

  async upsert(definition: JobDefinition, spec: ScheduleSpec): Promise<RecurringJobInfo> {
    const previous = await this.runtimeSchedules.get(spec.id);
    await this.runtimeSchedules.put({ spec, queue: definition.queue });
    await this.schedulers.rememberQueue(definition.queue);
    // NOTE: the schedule moved with its job (or to another job on another queue): its old scheduler goes.
    if (previous && previous.queue !== definition.queue)
      await this.queues.get(previous.queue).removeJobScheduler(spec.id);
    const paused = await this.isPaused(spec.id);
    if (!paused) await this.schedulers.write(definition, spec);
    this.logger.log(
      `Upserted schedule "${spec.id}" of job "${definition.id}" (${describeTiming(spec)}) on queue "${definition.queue}".`,
    );
    const scheduler = paused ? undefined : await this.queues.get(definition.queue).getJobScheduler(spec.id);
    return recurringInfo(definition, spec, paused, scheduler?.next ? new Date(scheduler.next) : undefined);
  }

  async remove(scheduleId: string): Promise<boolean> {
    const stored = await this.runtimeSchedules.get(scheduleId);
    if (!stored) return false;
    await this.runtimeSchedules.delete(scheduleId);
    this.knownPaused.delete(scheduleId);
    await this.queues.get(stored.queue).removeJobScheduler(scheduleId);
    this.logger.log(`Removed schedule "${scheduleId}" of job "${stored.spec.jobId}".`);
    return true;
  }

  async runtime(scheduleId: string): Promise<ScheduleSpec | undefined> {
    return (await this.runtimeSchedules.get(scheduleId))?.spec;
  }

  async lastRuns(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.keys.lastRun)));
  }

  async pause(definition: JobDefinition, spec: ScheduleSpec): Promise<void> {
    const flag = JSON.stringify({ pausedAt: new Date().toISOString() });
    await this.redis.hset(this.keys.paused, spec.id, flag);
    this.knownPaused.set(spec.id, flag);
    await this.queues.get(definition.queue).removeJobScheduler(spec.id);
    this.logger.log(`Paused schedule "${spec.id}".`);
  }

  async resume(definition: JobDefinition, spec: ScheduleSpec): Promise<void> {
    const wasPaused = (await this.redis.hdel(this.keys.paused, spec.id)) === 1;
    this.knownPaused.delete(spec.id);
    // NOTE: resuming a running schedule leaves it alone, unless the scheduler went missing (e.g. Redis was emptied).
    if (!wasPaused && (await this.queues.get(definition.queue).getJobScheduler(spec.id))) return;
    await this.schedulers.write(definition, spec);
    this.logger.log(`Resumed schedule "${spec.id}".`);
  }

  async isPaused(jobId: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.paused, jobId)) === 1;
  }

  async recordLastRun(jobId: string, executionId: string): Promise<void> {
    await this.redis
      .hset(this.keys.lastRun, jobId, executionId)
      .catch((e: Error) => this.logger.warn(`Could not record the last run of "${jobId}": ${e.message}`));
  }

  /**
   * Self-healing: Redis restarted without persistence, flushed, or failed over to an empty replica loses the
   * schedulers and pause flags. Every instance checks a sentinel key (on reconnect and every healIntervalMs)
   * and, when it is gone, writes its pause flags back and reconciles again: no app restart needed.
   */
  heal(): Promise<void> {
    this.healing ??= this.healIfEmpty().finally(() => (this.healing = undefined));
    return this.healing;
  }

  /** Stops the self-healing checks (shutdown). */
  stop(): void {
    this.stopped = true;
    if (this.healTimer) clearInterval(this.healTimer);
    this.presence.stop();
  }

  private watchForEmptyRedis(): void {
    if (this.healTimer || this.stopped) return;
    const check = () => void this.heal();
    this.healTimer = setInterval(check, this.config.healIntervalMs ?? DEFAULTS.healIntervalMs);
    this.healTimer.unref();
    this.redis.on('ready', check);
  }

  private async healIfEmpty(): Promise<void> {
    if (this.stopped || !this.registry) return;
    try {
      // NOTE: one atomic read of the sentinel, the pause flags and the runtime schedules: while Redis holds its data,
      // every instance refreshes what it knows of pauses and schedules made elsewhere, so whichever instance heals
      // first writes them all back.
      const replies = await this.redis
        .multi()
        .exists(this.keys.alive)
        .hgetall(this.keys.paused)
        .hgetall(this.keys.schedules)
        .exec();
      const [alive, flags, runtime] = (replies ?? []).map(([error, value]) => {
        if (error) throw error;
        return value;
      }) as [number, Record<string, string>, Record<string, string>];
      if (alive === 1 && (await this.queuesAlive(this.registry))) {
        this.rememberPaused(flags);
        this.runtimeSchedules.remember(runtime);
        return;
      }
      this.logger.warn('Redis lost the schedules (restart without persistence, flush or failover): re-asserting them.');
      if (this.knownPaused.size > 0) await this.redis.hset(this.keys.paused, Object.fromEntries(this.knownPaused));
      await this.runtimeSchedules.restore();
      await this.reconcileOnce(this.registry);
      this.logger.log('Schedules re-asserted.');
    } catch (error) {
      this.logger.debug(`Schedule check skipped: ${(error as Error).message}`);
    }
  }

  /** What this instance writes back should Redis come back empty: the pause flags as Redis holds them now. */
  private rememberPaused(flags: Record<string, string>): void {
    this.knownPaused.clear();
    for (const [id, flag] of Object.entries(flags)) this.knownPaused.set(id, flag);
  }

  private async reconcileOnce(registry: JobRegistry): Promise<void> {
    this.rememberPaused(await this.redis.hgetall(this.keys.paused));
    await this.schedulers.sync(registry);
  }

  /** On a cluster, each queue's slot keeps a sentinel of its own: one shard can come back empty alone. */
  private async queuesAlive(registry: JobRegistry): Promise<boolean> {
    const keys = registry
      .queues()
      .map((name) => this.keys.queueAlive(name))
      .filter((key): key is string => !!key);
    const found = await Promise.all(keys.map((key) => this.redis.exists(key)));
    return found.every((exists) => exists === 1);
  }
}
