import { Logger } from '@nestjs/common';
import { BullmqConnections } from './bullmq-connections';
import { BullmqKeys } from './bullmq-keys';

/** Marked every second, expiring after 2.5 s: a gap of that long with no worker instance is downtime. */
const BEAT_MS = 1_000;
const BEAT_TTL_MS = 2_500;

/**
 * Worker presence in Redis, for misfire to tell a tick that fell due while no worker ran from one late only because
 * workers were busy: each worker instance refreshes a short-lived mark; whoever finds it gone writes "up since now".
 */
export class BullmqWorkerPresence {
  private readonly logger = new Logger('BackgroundJobs');
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly connections: BullmqConnections,
    private readonly keys: BullmqKeys,
  ) {}

  private get redis() {
    return this.connections.commands();
  }

  /** Marks this instance's workers present now and every second until `stop`. */
  async start(): Promise<void> {
    await this.mark();
    if (!this.timer && !this.stopped) {
      this.timer = setInterval(() => void this.mark(), BEAT_MS);
      this.timer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** Since when (ms) worker instances have run without a gap; undefined when unknown. */
  async upSince(): Promise<number | undefined> {
    const since = await this.redis.get(this.keys.workersUpSince);
    return since === null ? undefined : Number(since);
  }

  /** Never throws: a failed mark only makes a later misfire decision run a tick instead of skipping it. */
  private async mark(): Promise<void> {
    try {
      const now = Date.now();
      if ((await this.redis.set(this.keys.workersBeat, String(now), 'PX', BEAT_TTL_MS, 'NX')) === 'OK') {
        await this.redis.set(this.keys.workersUpSince, String(now));
      } else {
        await this.redis.pexpire(this.keys.workersBeat, BEAT_TTL_MS);
      }
    } catch (error) {
      this.logger.debug(`Worker presence not marked: ${(error as Error).message}`);
    }
  }
}
