import { ScheduleSpec } from '../../core';
import { BullmqConnections } from './bullmq-connections';
import { BullmqKeys } from './bullmq-keys';

/** A runtime schedule as stored in Redis, with the queue its scheduler was made on. */
export interface StoredSchedule {
  spec: ScheduleSpec;
  queue: string;
}

/**
 * Runtime schedules (`upsertSchedule`) in Redis: a hash of schedule id → JSON under the prefix, read by every
 * instance's reconcile, and remembered here so that an instance writes them back should Redis come back empty.
 */
export class BullmqRuntimeSchedules {
  /** What this instance last knew of the hash, to write back if Redis loses it. */
  private readonly known = new Map<string, string>();

  constructor(
    private readonly connections: BullmqConnections,
    private readonly keys: BullmqKeys,
  ) {}

  private get redis() {
    return this.connections.commands();
  }

  async all(): Promise<StoredSchedule[]> {
    const raw = await this.redis.hgetall(this.keys.schedules);
    this.remember(raw);
    return Object.values(raw).map(parse);
  }

  /** What Redis holds now (read by the heal check while Redis still has its data). */
  remember(raw: Record<string, string>): void {
    this.known.clear();
    for (const [id, json] of Object.entries(raw)) this.known.set(id, json);
  }

  async get(id: string): Promise<StoredSchedule | undefined> {
    const json = await this.redis.hget(this.keys.schedules, id);
    return json ? parse(json) : undefined;
  }

  async put(stored: StoredSchedule): Promise<void> {
    const json = JSON.stringify(stored);
    await this.redis.hset(this.keys.schedules, stored.spec.id, json);
    this.known.set(stored.spec.id, json);
  }

  /** Deletes a schedule and its pause flag; false when there was none. */
  async delete(id: string): Promise<boolean> {
    const [[, removed]] = ((await this.redis
      .multi()
      .hdel(this.keys.schedules, id)
      .hdel(this.keys.paused, id)
      .exec()) ?? [[null, 0]]) as [[Error | null, number]];
    this.known.delete(id);
    return removed === 1;
  }

  /** After Redis came back empty: writes back every runtime schedule this instance knew. */
  async restore(): Promise<void> {
    if (this.known.size > 0) await this.redis.hset(this.keys.schedules, Object.fromEntries(this.known));
  }
}

function parse(json: string): StoredSchedule {
  const stored = JSON.parse(json) as StoredSchedule & { spec: ScheduleSpec & { startDate?: string; endDate?: string } };
  const { startDate, endDate } = stored.spec;
  return {
    queue: stored.queue,
    spec: {
      ...stored.spec,
      startDate: startDate ? new Date(startDate) : undefined,
      endDate: endDate ? new Date(endDate) : undefined,
    },
  };
}
