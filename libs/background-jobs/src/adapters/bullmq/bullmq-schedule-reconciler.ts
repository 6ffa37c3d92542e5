import { Logger } from '@nestjs/common';
import { JobSchedulerJson } from 'bullmq';
import { createHash } from 'node:crypto';
import { RecurringJobInfo } from '../../contracts';
import { DEFAULTS, JobDefinition, JobRegistry, recurringInfo, ScheduleStore } from '../../core';
import { BullmqConnections } from './bullmq-connections';
import { isEnvelope, JobEnvelope } from './bullmq-envelope';
import { BullmqKeys } from './bullmq-keys';
import { BullmqQueues, jobOptions } from './bullmq-queues';

export interface BullmqScheduleConfig {
  /**
   * How often each instance checks that Redis still holds its schedules (a sentinel key), re-asserting
   * schedulers and pause flags when Redis came back empty; DEFAULTS.healIntervalMs when absent.
   */
  healIntervalMs?: number;
}

/**
 * Recurring jobs on BullMQ's job schedulers: one per recurring id, reconciled at boot; pause flags and last runs
 * in the framework's own keys; self-healing when Redis comes back empty.
 */
export class BullmqScheduleReconciler extends ScheduleStore {
  private readonly logger = new Logger('BackgroundJobs');
  /** Pause flags as this instance last knew them, to write back if Redis loses them. */
  private readonly knownPaused = new Map<string, string>();
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
  }

  async listRecurring(registry: JobRegistry): Promise<RecurringJobInfo[]> {
    const paused = await this.pausedIds();
    return Promise.all(
      registry.recurring().map(async (definition) => {
        const scheduler = await this.queues.get(definition.queue).getJobScheduler(definition.id);
        return recurringInfo(definition, paused.has(definition.id), scheduler?.next ? new Date(scheduler.next) : undefined);
      }),
    );
  }

  async lastRuns(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.keys.lastRun)));
  }

  async pause(definition: JobDefinition): Promise<void> {
    const flag = JSON.stringify({ pausedAt: new Date().toISOString() });
    await this.redis.hset(this.keys.paused, definition.id, flag);
    this.knownPaused.set(definition.id, flag);
    await this.queues.get(definition.queue).removeJobScheduler(definition.id);
    this.logger.log(`Paused recurring job "${definition.id}".`);
  }

  async resume(definition: JobDefinition): Promise<void> {
    const wasPaused = (await this.redis.hdel(this.keys.paused, definition.id)) === 1;
    this.knownPaused.delete(definition.id);
    // NOTE: resuming a running job leaves its schedule alone, unless the scheduler went missing (e.g. Redis was emptied).
    if (!wasPaused && (await this.queues.get(definition.queue).getJobScheduler(definition.id))) return;
    await this.upsertScheduler(definition);
    this.logger.log(`Resumed recurring job "${definition.id}".`);
  }

  async isPaused(jobId: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.paused, jobId)) === 1;
  }

  async recordLastRun(jobId: string, executionId: string): Promise<void> {
    await this.redis.hset(this.keys.lastRun, jobId, executionId).catch((e: Error) => this.logger.warn(`Could not record the last run of "${jobId}": ${e.message}`));
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
      // NOTE: one atomic read of the sentinel and the pause flags: while Redis holds its data, every instance
      // refreshes what it knows of pauses made elsewhere, so whichever instance heals first writes them all back.
      const replies = await this.redis.multi().exists(this.keys.alive).hgetall(this.keys.paused).exec();
      const [alive, flags] = (replies ?? []).map(([error, value]) => {
        if (error) throw error;
        return value;
      }) as [number, Record<string, string>];
      if (alive === 1 && (await this.queuesAlive(this.registry))) {
        this.rememberPaused(flags);
        return;
      }
      this.logger.warn('Redis lost the schedules (restart without persistence, flush or failover): re-asserting them.');
      if (this.knownPaused.size > 0) await this.redis.hset(this.keys.paused, Object.fromEntries(this.knownPaused));
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
    for (const name of registry.queues()) {
      const queue = this.queues.get(name);
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
        if (await this.queues.get(definition.queue).removeJobScheduler(legacyId)) {
          this.logger.log(`Removed legacy scheduler "${legacyId}": replaced by "${definition.id}".`);
        }
      }
    }
    await this.redis.set(this.keys.alive, String(Date.now()));
    for (const name of registry.queues()) {
      const key = this.keys.queueAlive(name);
      if (key) await this.redis.set(key, String(Date.now()));
    }
  }

  /** On a cluster, each queue's slot keeps a sentinel of its own: one shard can come back empty alone. */
  private async queuesAlive(registry: JobRegistry): Promise<boolean> {
    const keys = registry.queues().map((name) => this.keys.queueAlive(name)).filter((key): key is string => !!key);
    const found = await Promise.all(keys.map((key) => this.redis.exists(key)));
    return found.every((exists) => exists === 1);
  }

  private async upsertScheduler(definition: JobDefinition): Promise<void> {
    const data: JobEnvelope = { bgj: 1, tenantId: null, fp: fingerprint(definition) };
    if (definition.tenancy === 'per-tenant') data.fanOut = true;
    await this.queues
      .get(definition.queue)
      .upsertJobScheduler(definition.id, { pattern: definition.cron, tz: definition.timezone }, { name: definition.id, data, opts: jobOptions(definition) });
  }

  private async pausedIds(): Promise<Set<string>> {
    return new Set(Object.keys(await this.redis.hgetall(this.keys.paused)));
  }
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
