import { Queue } from 'bullmq';
import { PRIORITY_TIERS, TenantBacklog, topTenants } from '../../core';
import { BullmqKeys } from './bullmq-keys';
import { FAIR_ROUNDS } from './bullmq-scripts';
import { RedisClient } from './redis-connection';

/** BullMQ's highest job priority (`PRIORITY_LIMIT` in bullmq's job.js): 2^21 - 1. */
export const PRIORITY_LIMIT = 2 ** 21 - 1;

/** The highest round of a tier: the last tier's last priority, tiers * (ROUND_LIMIT + 1) - 1, is PRIORITY_LIMIT. */
export const ROUND_LIMIT = Math.floor((PRIORITY_LIMIT + 1) / PRIORITY_TIERS) - 1;

/** A lane of the round robin: a tenant's runs of one priority tier (tier 0 keeps the bare tenant key). */
const laneKey = (tenant: string, tier: number): string => (tier === 0 ? tenant : `${tenant}\u0000${tier}`);

/** How a tenant is named in the fairness keys: host-level runs are the tenant '' (a real tenant id is never empty). */
export const tenantKey = (tenantId: string | null): string => tenantId ?? '';

/** The tenant (null: host level) and tier of a lane key of the rounds hash. */
function laneOf(lane: string): { tenant: string | null; tier: number } {
  const cut = lane.indexOf('\u0000');
  const tenant = cut < 0 ? lane : lane.slice(0, cut);
  return { tenant: tenant === '' ? null : tenant, tier: cut < 0 ? 0 : Number(lane.slice(cut + 1)) };
}

/** The rounds hash's field of the highest round given (no tenant id holds NUL). */
const TOP_FIELD = '\u0000top';

/** The rounds hash's lane of plain (non-fair) runs on a queue shared with fair jobs: one lane for all of them. */
export const PLAIN_LANE = '\u0000plain';

type FairCommands = RedisClient & {
  bgjFairRounds(
    rounds: string,
    prioritized: string,
    weights: string,
    limit: number,
    ...lanes: Array<string | number>
  ): Promise<number[]>;
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
      tiers: number[];
      waiters: Array<{ resolve(round: number): void; reject(error: unknown): void }>;
    }
  >();
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly redis: () => RedisClient,
    private readonly keys: BullmqKeys,
  ) {}

  /**
   * The BullMQ priority of each run, in order, for runs of these tenants (and priority tiers, 0 when absent) about to
   * be added to `queue`: tier-major, then round robin between the tenants' lanes of the tier, n runs per round for a
   * tenant of weight n (lua/fair-rounds-3.lua).
   */
  rounds(queue: Queue, tenants: Array<string | null>, tiers: number[] = []): Promise<number[]> {
    return this.client().bgjFairRounds(
      this.keys.fairRounds(queue.name),
      queue.keys.prioritized,
      this.keys.fairWeights(queue.name),
      ROUND_LIMIT,
      ...tenants.flatMap((tenant, i) => [laneKey(tenantKey(tenant), tiers[i] ?? 0), tiers[i] ?? 0, tenantKey(tenant)]),
    );
  }

  /** A tenant's shares of `queue`'s rounds from its next enqueue on, on every instance; null (or 1): one share. */
  async setWeight(queue: string, tenantId: string | null, weight: number | null): Promise<void> {
    const redis = this.client();
    if (weight === null || weight === 1) await redis.hdel(this.keys.fairWeights(queue), tenantKey(tenantId));
    else await redis.hset(this.keys.fairWeights(queue), tenantKey(tenantId), weight);
  }

  /**
   * The BullMQ priority of one run about to be added to `queue`. Calls made while another is in flight for the queue
   * are sent together in one script call when it returns: under load one round trip serves many enqueues.
   */
  round(queue: Queue, tenantId: string | null, tier = 0): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let batch = this.batches.get(queue.name);
      if (!batch) {
        batch = { queue, tenants: [], tiers: [], waiters: [] };
        this.batches.set(queue.name, batch);
      }
      batch.tenants.push(tenantId);
      batch.tiers.push(tier);
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
    this.rounds(batch.queue, batch.tenants, batch.tiers)
      .then(
        (rounds) => batch.waiters.forEach((waiter, i) => waiter.resolve(rounds[i])),
        (error: unknown) => batch.waiters.forEach((waiter) => waiter.reject(error)),
      )
      .finally(() => this.flush(name));
  }

  /**
   * Runs queued per tenant, read from the rounds and weights alone (O(tenants), no job is read): a tenant's queued runs
   * hold the rounds from the one being served to its last, w per round for a tenant of weight w (its last round holds
   * the count its field records), so it has (last - current) × w + used of them. An estimate: a run of the current
   * round already taken, one cancelled, or a weight changed since, still counts until the round moves on.
   */
  async backlog(queue: Queue, top: number): Promise<TenantBacklog> {
    const redis = this.client();
    const [rounds, weights] = await Promise.all([
      redis.hgetall(this.keys.fairRounds(queue.name)),
      redis.hgetall(this.keys.fairWeights(queue.name)),
    ]);
    const lanes = Object.entries(rounds)
      .filter(([lane]) => lane !== TOP_FIELD && !lane.startsWith(PLAIN_LANE))
      .map(([lane, value]) => {
        const of = laneOf(lane);
        const weight = Number(weights[tenantKey(of.tenant)] ?? 1);
        const [last, used] = value.split(':').map(Number);
        return { ...of, weight, last, used: used ?? weight };
      });
    // NOTE: the round each tier serves now is its lowest pending priority, one read per tier in use (≤ 8).
    const span = (ROUND_LIMIT + 1) * 2 ** 32;
    const current = new Map<number, number>();
    await Promise.all(
      [...new Set(lanes.map((lane) => lane.tier))].map(async (tier) => {
        const head = await redis.zrangebyscore(
          queue.keys.prioritized,
          tier * span,
          `(${(tier + 1) * span}`,
          'WITHSCORES',
          'LIMIT',
          0,
          1,
        );
        if (head.length > 0) current.set(tier, Math.floor(Number(head[1]) / 2 ** 32) - tier * (ROUND_LIMIT + 1));
      }),
    );
    const counts = new Map<string | null, number>();
    for (const { tenant, tier, last, weight, used } of lanes) {
      const serving = current.get(tier);
      if (serving === undefined || last < serving) continue;
      counts.set(tenant, (counts.get(tenant) ?? 0) + (last - serving) * weight + used);
    }
    return topTenants(queue.name, counts, top);
  }

  private client(): FairCommands {
    const redis = this.redis();
    if (!this.defined.has(redis)) {
      redis.defineCommand(FAIR_ROUNDS.name, FAIR_ROUNDS);
      this.defined.add(redis);
    }
    return redis as FairCommands;
  }
}
