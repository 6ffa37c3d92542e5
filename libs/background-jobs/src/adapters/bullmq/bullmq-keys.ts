/** The framework's own Redis keys, beside BullMQ's under the same prefix: `<prefix>:bgj:…`. */
export class BullmqKeys {
  constructor(readonly prefix: string) {}

  /** Pause flags of recurring jobs: a hash of job id → `{ pausedAt }`. */
  get paused(): string {
    return this.key('paused');
  }

  /** Last scheduled run of each recurring job: a hash of job id → execution id. */
  get lastRun(): string {
    return this.key('last-run');
  }

  /** Runtime schedules (`upsertSchedule`): a hash of schedule id → its definition (JSON). */
  get schedules(): string {
    return this.key('schedules');
  }

  /** Every queue this app has used under the prefix: a set, so reconcile finds schedulers a moved job left behind. */
  get queues(): string {
    return this.key('queues');
  }

  /** Worker presence: set by every worker instance each second with a short expiry; gone while none runs. */
  get workersBeat(): string {
    return this.key('workers-beat');
  }

  /** Since when (ms) worker instances have been running without a gap (written when `workersBeat` was gone). */
  get workersUpSince(): string {
    return this.key('workers-up-since');
  }

  /** Sentinel: gone when Redis lost its data (restart without persistence, flush, failover). */
  get alive(): string {
    return this.key('alive');
  }

  /** The pub/sub channel every worker instance listens on for cancels of running runs. */
  get cancelChannel(): string {
    return this.key('cancel');
  }

  /** What a run cancelled before it started looked like (BullMQ removed the job itself). */
  cancelled(executionId: string): string {
    return this.key('cancelled', executionId);
  }

  private key(...parts: string[]): string {
    return [this.prefix, 'bgj', ...parts].join(':');
  }
}
