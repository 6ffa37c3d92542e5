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

  /**
   * Fair queue: a hash of tenant → the round of its last queued run (the BullMQ priority it was given). Touched in one
   * Lua call with the queue's own `prioritized` set, so it must live in the queue's slot.
   */
  fairRounds(queue: string): string {
    return this.key('fair', queue, 'rounds');
  }

  /**
   * The running runs of one tenant of a capped fair job: a sorted set of execution id → expiry (ms), self-expiring.
   * `tenant` is '' for host-level runs (a real tenant id is never empty).
   */
  fairSlots(queue: string, jobId: string, tenant: string): string {
    return this.key('fair', queue, 'slots', jobId, tenant);
  }

  private key(...parts: string[]): string {
    return [this.prefix, 'bgj', ...parts].join(':');
  }
}
