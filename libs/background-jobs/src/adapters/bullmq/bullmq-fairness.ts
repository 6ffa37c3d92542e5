import { Queue } from 'bullmq';
import { TenantBacklog, topTenants } from '../../core';
import { BullmqKeys } from './bullmq-keys';
import { RedisClient } from './redis-connection';

/** BullMQ's highest job priority (`PRIORITY_LIMIT` in bullmq's job.js): 2^21 - 1. */
export const PRIORITY_LIMIT = 2 ** 21 - 1;

/** The rounds hash's field of the highest round given (no tenant id holds NUL). */
const TOP_FIELD = '\u0000top';

/** How a tenant is named in the fairness keys: host-level runs are the tenant '' (a real tenant id is never empty). */
export const tenantKey = (tenantId: string | null): string => tenantId ?? '';

/** The rounds hash's lane of plain (non-fair) runs on a queue shared with fair jobs: one lane for all of them. */
export const PLAIN_LANE = '\u0000plain';

// NOTE: BullMQ keeps prioritized jobs in a sorted set scored priority × 2^32 + an insertion counter and takes the
// lowest first (after the plain wait list). Giving a tenant's next queued run the round max(its last round + 1, the
// round being served now: the lowest pending priority) interleaves tenants round robin, FIFO inside a tenant. When
// nothing is pending every tenant's last round is behind the next one, so the tenant fields are dropped (an idle
// tenant costs nothing) and only the highest round given ("\0top": no tenant id holds NUL) is kept; from half of
// BullMQ's priority range rounds start again at 1, which only runs whose add is still in flight can notice.
/** KEYS: rounds hash, the queue's prioritized set. ARGV: priority limit, then tenant keys in enqueue order. */
const ROUNDS = `
local limit = tonumber(ARGV[1])
local top = tonumber(redis.call('HGET', KEYS[1], '\\0top')) or 0
local head = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local floor
if #head == 0 then
  redis.call('DEL', KEYS[1])
  if top >= limit / 2 then top = 0 end
  floor = top + 1
else
  floor = math.floor(tonumber(head[2]) / 4294967296)
end
local out = {}
for i = 2, #ARGV do
  local round = (tonumber(redis.call('HGET', KEYS[1], ARGV[i])) or 0) + 1
  if round < floor then round = floor end
  if round > limit then round = limit end
  redis.call('HSET', KEYS[1], ARGV[i], round)
  if round > top then top = round end
  out[i - 1] = round
end
redis.call('HSET', KEYS[1], '\\0top', top)
return out`;

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
      redis.defineCommand('bgjFairRounds', { numberOfKeys: 2, lua: ROUNDS });
      this.defined.add(redis);
    }
    return redis as FairCommands;
  }
}
