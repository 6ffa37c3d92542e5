import { Logger } from '@nestjs/common';
import { decoratorSchedule, JobDefinition, JobRegistry, ScheduleSpec } from '../../core';
import { BullmqConnections } from './bullmq-connections';
import { isEnvelope } from './bullmq-envelope';
import { BullmqKeys } from './bullmq-keys';
import { BullmqQueues } from './bullmq-queues';
import { BullmqRuntimeSchedules } from './bullmq-runtime-schedules';
import { describeTiming, fingerprint, schedulerId, writeScheduler } from './bullmq-scheduler';

/**
 * BullMQ's job schedulers made to match the schedules of this app: its recurring jobs and the runtime schedules
 * stored in Redis, at boot and whenever self-healing finds Redis empty.
 */
export class BullmqSchedulerSync {
  private readonly logger = new Logger('BackgroundJobs');

  constructor(
    private readonly queues: BullmqQueues,
    private readonly connections: BullmqConnections,
    private readonly keys: BullmqKeys,
    private readonly runtimeSchedules: BullmqRuntimeSchedules,
  ) {}

  private get redis() {
    return this.connections.commands();
  }

  /**
   * Creates each schedule's scheduler or updates it when its fingerprint changed, removes the paused, the stale and
   * the replaced ones, then marks Redis as holding them (the sentinel keys self-healing checks).
   */
  async sync(registry: JobRegistry): Promise<void> {
    const runtime = await this.runtimeSchedules.all();
    const runtimeIds = new Set(runtime.map(({ spec }) => spec.id));
    // NOTE: every queue this app (any version of it) has used under the prefix, so a scheduler left on a queue a job
    // moved away from, or on a queue whose last job was deleted, is found and removed.
    for (const name of registry.queues()) await this.rememberQueue(name);
    const queueNames = new Set([
      ...registry.queues(),
      ...(await this.redis.smembers(this.keys.queues)),
      ...runtime.map((stored) => stored.queue),
    ]);
    const paused = await this.pausedIds();
    for (const name of queueNames) {
      const queue = this.queues.get(name);
      const desired = new Map<string, { definition: JobDefinition; spec: ScheduleSpec }>();
      for (const definition of registry.recurring())
        if (definition.queue === name) desired.set(definition.id, { definition, spec: decoratorSchedule(definition) });
      for (const { spec } of runtime) {
        const definition = registry.get(spec.jobId);
        if (definition?.enabled && definition.queue === name) desired.set(spec.id, { definition, spec });
      }
      const existing = await queue.getJobSchedulers(0, -1);
      const current = new Map(existing.map((scheduler) => [schedulerId(scheduler), scheduler]));
      for (const { definition, spec } of desired.values()) {
        const scheduler = current.get(spec.id);
        // NOTE: a pause is cluster-wide: an instance booting later must not bring the schedule back.
        if (paused.has(spec.id)) {
          if (scheduler) await queue.removeJobScheduler(spec.id);
          this.logger.log(`Schedule "${spec.id}" is paused: no ticks until it is resumed.`);
          continue;
        }
        if (
          scheduler &&
          isEnvelope(scheduler.template?.data) &&
          scheduler.template.data.fp === fingerprint(definition, spec)
        )
          continue;
        await this.write(definition, spec);
        this.logger.log(
          `${scheduler ? 'Updated' : 'Registered'} schedule "${spec.id}" of job "${definition.id}" (${describeTiming(spec)}) on queue "${name}".`,
        );
      }
      for (const scheduler of existing) {
        const id = schedulerId(scheduler);
        const data = scheduler.template?.data;
        if (desired.has(id) || !isEnvelope(data)) continue;
        // NOTE: a runtime schedule is another instance's to keep while it is stored and its job is not known here
        // to live on another queue; a decorator schedule this app no longer declares on this queue goes.
        if (data.sched?.src === 'r' && runtimeIds.has(id) && !this.movedAway(registry, runtime, id, name)) continue;
        await queue.removeJobScheduler(id);
        this.logger.log(`Removed schedule "${id}" from queue "${name}": no such schedule on this queue any more.`);
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

  /** True when the runtime schedule's job is known to this app and lives on another queue than `queue`. */
  private movedAway(registry: JobRegistry, runtime: { spec: ScheduleSpec }[], id: string, queue: string): boolean {
    const spec = runtime.find((stored) => stored.spec.id === id)?.spec;
    const definition = spec && registry.get(spec.jobId);
    return definition !== undefined && definition.queue !== queue;
  }

  /** Records a queue this app uses under the prefix, so a later sync finds its schedulers. */
  async rememberQueue(name: string): Promise<void> {
    await this.redis.sadd(this.keys.queues, name);
  }

  /** Creates or replaces the scheduler of `spec` on its job's queue. */
  write(definition: JobDefinition, spec: ScheduleSpec): Promise<void> {
    return writeScheduler(this.queues.get(definition.queue), definition, spec);
  }

  /** Ids of the paused schedules, as Redis holds them. */
  async pausedIds(): Promise<Set<string>> {
    return new Set(Object.keys(await this.redis.hgetall(this.keys.paused)));
  }
}
