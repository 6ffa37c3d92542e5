import { Inject, Injectable, OnApplicationShutdown, Optional } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { LEGACY_QUEUE } from '../notification.schedules';
import { LegacyNotificationProcessor } from './legacy-notification.processor';

export const LEGACY_REDIS = Symbol('sample-app:legacy-redis');

/**
 * LEGACY (kept for rollback): closes the Redis Cluster client the legacy queue and processor share, after them.
 * NOTE: @nestjs/bullmq closes its queues and workers in shutdown hooks of modules that Nest shuts down after this
 * one, so this closes them first (both closes are idempotent: theirs then return the same promise).
 */
@Injectable()
export class LegacyRedisConnection implements OnApplicationShutdown {
  constructor(
    @Inject(LEGACY_REDIS) private readonly connection: { close(): Promise<void> },
    @InjectQueue(LEGACY_QUEUE) private readonly queue: Queue,
    @Optional() private readonly processor?: LegacyNotificationProcessor,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    const worker = (() => {
      try {
        return this.processor?.worker;
      } catch {
        return undefined; // NOTE: WorkerHost throws when its worker was never started.
      }
    })();
    await worker?.close();
    await this.queue.close();
    await this.connection.close();
  }
}
