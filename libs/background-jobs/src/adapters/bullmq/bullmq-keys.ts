/**
 * The framework's own Redis keys, beside BullMQ's under the same prefix: `<prefix>:bgj:…`, and each queue's BullMQ
 * prefix. On a Redis Cluster with a prefix without a hash tag they carry one (docs/operations.md#production-redis).
 */
export class BullmqKeys {
  /** On a cluster with a prefix without `{…}`: one hash tag per queue, one for the framework's keys. */
  readonly hashTagged: boolean;

  constructor(
    readonly prefix: string,
    cluster = false,
  ) {
    this.hashTagged = cluster && !/\{[^}]+\}/.test(prefix);
  }

  /**
   * BullMQ's prefix for `queue`. BullMQ needs every key of a queue in one hash slot: on a cluster a prefix without a
   * tag gets one per queue (`<prefix>:{<queue>}`), so different queues spread over the shards; a prefix with its own
   * tag (`{bull}`) keeps everything in that one slot. One server or Sentinel: the prefix as given.
   */
  queuePrefix(queue: string): string {
    return this.hashTagged ? `${this.prefix}:{${queue}}` : this.prefix;
  }

  /** Per-queue sentinel on a cluster (the shard holding a queue's schedulers can lose its data alone); none otherwise. */
  queueAlive(queue: string): string | undefined {
    return this.hashTagged ? `${this.queuePrefix(queue)}:bgj:alive` : undefined;
  }

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

  /** Live worker instances: a sorted set of instance id → its last heartbeat (ms). */
  get instances(): string {
    return this.key('instances');
  }

  /** One instance's heartbeat (JSON), expiring unless renewed: gone soon after its process dies. */
  instance(instanceId: string): string {
    return this.key('instance', instanceId);
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
   * Admission's base key (rate logs, slots, parked runs, holds, overrides: `<base>:<suffix>`, adapters/bullmq/lua). On a
   * cluster it carries the framework's hash tag, so every key of one admission decision, shared limits of jobs on
   * different queues included, lives in one slot and each decision is one script call.
   */
  get admission(): string {
    return this.key('adm');
  }

  /** Continuations' base key (who waits on whom); on a cluster in the framework's slot, so each script is one slot. */
  get dependencies(): string {
    return this.key('deps');
  }

  /**
   * Fair queue: a hash of tenant → the round of its last queued run (the BullMQ priority it was given). Touched in one
   * Lua call with the queue's own `prioritized` set, so it must live in the queue's slot.
   */
  fairRounds(queue: string): string {
    return `${this.queuePrefix(queue)}:bgj:fair:${queue}:rounds`;
  }

  /** Fair queue: a hash of tenant → its shares of a round (`setLimit`'s weight), read with the rounds: same slot. */
  fairWeights(queue: string): string {
    return `${this.queuePrefix(queue)}:bgj:fair:${queue}:weights`;
  }

  /** On a cluster the framework's keys share one slot (`{<prefix>:bgj}:…`): the schedule check reads three (alive, paused, schedules) in one MULTI. */
  private key(...parts: string[]): string {
    return [this.hashTagged ? `{${this.prefix}:bgj}` : `${this.prefix}:bgj`, ...parts].join(':');
  }
}
