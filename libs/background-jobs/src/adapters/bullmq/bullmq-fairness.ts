import { Queue } from 'bullmq';
import { TenantBacklog, topTenants } from '../../core';
import { BullmqKeys } from './bullmq-keys';
import { FAIR_ROUNDS } from './bullmq-scripts';
import { RedisClient } from './redis-connection';

/** BullMQ's highest job priority (`PRIORITY_LIMIT` in bullmq's job.js): 2^21 - 1. */
export const PRIORITY_LIMIT = 2 ** 21 - 1;

/** The rounds hash's field of the highest round given (no tenant id holds NUL). */
const TOP_FIELD = '\u0000top';

/** How a tenant is named in the fairness keys: host-level runs are the tenant '' (a real tenant id is never empty). */
export const tenantKey = (tenantId: string | null): string => tenantId ?? '';

/** The rounds hash's lane of plain (non-fair) runs on a queue shared with fair jobs: one lane for all of them. */
export const PLAIN_LANE = '\u0000plain';

type FairCommands = RedisClient & {
  bgjFairRounds(rounds: string, prioritized: string, limit: number, ...tenants: string[]): Promise<number[]>;
};

/**
 * Per-tenant fairness on plain BullMQ: round robin through job priorities (`rounds`). Ordering only: the per-tenant
 * cap is admission's (bullmq-admission.ts, docs/flow-control.md). Every structure is BullMQ's own or one key of ours
 * beside it; see docs/fairness.md for the costs.
 */
export class BullmqFairness {
  private defined = new WeakSet<RedisClient>();
  /** Single-run `round` calls waiting for the queue's call in flight. */
  private readonly batches = new Map<
    string,
    {
      queue: Queue;
      tenants: Array<string | null>;
      waiters: Array<{ resolve(round: number): void; reject(error: unknown): void }>;
    }
  >();
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly redis: () => RedisClient,
    private readonly keys: BullmqKeys,
  ) {}

  /** The BullMQ priority of each run, in order, for runs of these tenants about to be added to `queue`. */
  rounds(queue: Queue, tenants: Array<string | null>): Promise<number[]> {
    return this.client().bgjFairRounds(
      this.keys.fairRounds(queue.name),
      queue.keys.prioritized,
      PRIORITY_LIMIT,
      ...tenants.map(tenantKey),
    );
  }

  /**
   * The BullMQ priority of one run about to be added to `queue`. Calls made while another is in flight for the queue
   * are sent together in one script call when it returns: under load one round trip serves many enqueues.
   */
  round(queue: Queue, tenantId: string | null): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let batch = this.batches.get(queue.name);
      if (!batch) {
        batch = { queue, tenants: [], waiters: [] };
        this.batches.set(queue.name, batch);
      }
      batch.tenants.push(tenantId);
      batch.waiters.push({ resolve, reject });
      if (!this.inFlight.has(queue.name)) this.flush(queue.name);
    });
  }

  private flush(name: string): void {
    const batch = this.batches.get(name);
    if (!batch) {
      this.inFlight.delete(name);
      return;
    }
    this.batches.delete(name);
    this.inFlight.add(name);
    this.rounds(batch.queue, batch.tenants)
      .then(
        (rounds) => batch.waiters.forEach((waiter, i) => waiter.resolve(rounds[i])),
        (error: unknown) => batch.waiters.forEach((waiter) => waiter.reject(error)),
      )
      .finally(() => this.flush(name));
  }

  /**
   * Runs queued per tenant, read from the rounds alone (O(tenants), no job is read): a tenant's queued runs hold the
   * rounds from the one being served to its last, so it has last - current + 1 of them. An estimate: a run of the
   * current round already taken, or one cancelled, still counts until the round moves on.
   */
  async backlog(queue: Queue, top: number): Promise<TenantBacklog> {
    const redis = this.client();
    const [head, rounds] = await Promise.all([
      redis.zrange(queue.keys.prioritized, 0, 0, 'WITHSCORES'),
      redis.hgetall(this.keys.fairRounds(queue.name)),
    ]);
    const counts = new Map<string | null, number>();
    if (head.length > 0) {
      const current = Math.floor(Number(head[1]) / 2 ** 32);
      for (const [tenant, last] of Object.entries(rounds)) {
        if (tenant !== TOP_FIELD && tenant !== PLAIN_LANE && Number(last) >= current)
          counts.set(tenant === '' ? null : tenant, Number(last) - current + 1);
      }
    }
    return topTenants(queue.name, counts, top);
  }

  private client(): FairCommands {
    const redis = this.redis();
    if (!this.defined.has(redis)) {
      redis.defineCommand('bgjFairRounds', FAIR_ROUNDS);
      this.defined.add(redis);
    }
    return redis as FairCommands;
  }
}
