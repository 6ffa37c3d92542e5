import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { InstanceInfo, PROCESS_IDENTITY } from '../../core';
import { BullmqConnections } from './bullmq-connections';
import { BullmqKeys } from './bullmq-keys';

/** A heartbeat every 2 s, expiring after 6 s: an instance whose process died leaves the list within 6 s. */
export const BEAT_MS = 2_000;
export const BEAT_TTL_MS = 6_000;

/** What the worker host says about itself at each beat. */
export interface InstanceLoad {
  queues: string[];
  concurrency: number;
  running: number;
}

/**
 * The live instances running workers: each writes a heartbeat key of its own with a short expiry and keeps its id in
 * a sorted set; a listing reads the keys still there and drops the ids whose key expired.
 */
export class BullmqInstances {
  private readonly logger = new Logger('BackgroundJobs');
  private readonly instanceId = randomUUID();
  private readonly startedAt = new Date();
  private timer?: NodeJS.Timeout;
  private load?: () => InstanceLoad;

  constructor(
    private readonly connections: BullmqConnections,
    private readonly keys: BullmqKeys,
  ) {}

  async start(load: () => InstanceLoad): Promise<void> {
    this.load = load;
    await this.beat();
    this.timer = setInterval(() => void this.beat(), BEAT_MS);
    this.timer.unref();
  }

  /** Stops beating and removes this instance at once (a killed process is dropped when its key expires). */
  async stop(): Promise<void> {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    const redis = this.connections.commands();
    await redis.del(this.keys.instance(this.instanceId));
    await redis.zrem(this.keys.instances, this.instanceId);
  }

  async list(): Promise<InstanceInfo[]> {
    const redis = this.connections.commands();
    const ids = await redis.zrange(this.keys.instances, 0, -1);
    if (ids.length === 0) return [];
    // NOTE: one GET per id rather than MGET: on a cluster the keys share the framework's hash tag, but a host prefix
    // with its own tag would too; GETs work either way and the list is short.
    const beats = await Promise.all(ids.map((id) => redis.get(this.keys.instance(id))));
    const gone = ids.filter((_, i) => beats[i] === null);
    if (gone.length) await redis.zrem(this.keys.instances, ...gone);
    return beats
      .filter((beat): beat is string => beat !== null)
      .map((beat) => {
        const info = JSON.parse(beat) as InstanceInfo;
        return { ...info, startedAt: new Date(info.startedAt), lastBeatAt: new Date(info.lastBeatAt) };
      })
      .sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
  }

  /** Never throws: a missed beat only makes the instance look gone until the next one. */
  private async beat(): Promise<void> {
    if (!this.load) return;
    try {
      const now = new Date();
      const info: InstanceInfo = {
        instanceId: this.instanceId,
        ...PROCESS_IDENTITY,
        ...this.load(),
        startedAt: this.startedAt,
        lastBeatAt: now,
      };
      const redis = this.connections.commands();
      await redis.set(this.keys.instance(this.instanceId), JSON.stringify(info), 'PX', BEAT_TTL_MS);
      await redis.zadd(this.keys.instances, now.getTime(), this.instanceId);
    } catch (error) {
      this.logger.debug(`Instance heartbeat not written: ${(error as Error).message}`);
    }
  }
}
