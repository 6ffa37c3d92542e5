import { insertByTier, LocalRun } from './local-run';

/**
 * The embedded transport's fair runs (`@PipelineJob({ fairness })`): one lane per (queue, tenant), ordered by priority
 * tier, taken round robin within the lowest tier waiting.
 * Host-level runs are one lane, and so are the plain runs of a queue shared with fair jobs (as on BullMQ,
 * docs/fairness.md). Ordering only: a tenant's `concurrencyPerTenant` is admission's (docs/flow-control.md).
 */
export class LocalFairLanes {
  private readonly lanes = new Map<string, LocalRun[]>();
  /** Lanes with runs, in the order they get their next turn. */
  private readonly order: string[] = [];
  /** A tenant's shares of a round, by lane key (`setLimit`'s weight); absent: 1. */
  private readonly weights = new Map<string, number>();
  /** Runs the lane at the head of its turn has taken in that turn (a lane of weight n keeps its turn for n runs). */
  private readonly taken = new Map<string, number>();

  /** Runs waiting in every lane. */
  get size(): number {
    let total = 0;
    for (const lane of this.lanes.values()) total += lane.length;
    return total;
  }

  /** Queues a run behind its lane's runs of its tier or lower (at the front: a run handed back by shutdown). */
  push(run: LocalRun, front = false): void {
    const key = laneOf(run);
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = [];
      this.lanes.set(key, lane);
      this.order.push(key);
    }
    if (front) lane.unshift(run);
    else insertByTier(lane, run);
  }

  /** Takes a waiting run out of its lane (cancel); false when it is not waiting here. */
  remove(run: LocalRun): boolean {
    const key = laneOf(run);
    const lane = this.lanes.get(key);
    const index = lane ? lane.indexOf(run) : -1;
    if (!lane || index < 0) return false;
    lane.splice(index, 1);
    if (lane.length === 0) this.drop(key);
    return true;
  }

  /** A tenant's shares of its queue's round robin from its next turn on (null: one share). */
  setWeight(queue: string, tenantId: string | null, weight: number | null): void {
    const key = `${queue}\u0000${tenantId ?? ''}`;
    if (weight === null || weight === 1) this.weights.delete(key);
    else this.weights.set(key, weight);
  }

  /**
   * The next run, or undefined: of the lowest priority tier at the head of a lane, then round robin between the lanes
   * whose head is of that tier (as BullMQ's priorities order them, lua/fair-rounds-3.lua); a lane of weight n takes
   * n runs in a row before the next lane's turn.
   */
  take(): LocalRun | undefined {
    let tier = Infinity;
    for (const key of this.order) tier = Math.min(tier, tierOf((this.lanes.get(key) as LocalRun[])[0]));
    const index = this.order.findIndex((key) => tierOf((this.lanes.get(key) as LocalRun[])[0]) === tier);
    if (index < 0) return undefined;
    const key = this.order[index];
    const lane = this.lanes.get(key) as LocalRun[];
    const run = lane.shift() as LocalRun;
    const taken = (this.taken.get(key) ?? 0) + 1;
    if (lane.length > 0 && taken < (this.weights.get(key) ?? 1)) {
      this.taken.set(key, taken);
      return run;
    }
    this.order.splice(index, 1);
    this.taken.delete(key);
    if (lane.length > 0) this.order.push(key);
    else this.lanes.delete(key);
    return run;
  }

  private drop(key: string): void {
    this.taken.delete(key);
    this.lanes.delete(key);
    const index = this.order.indexOf(key);
    if (index >= 0) this.order.splice(index, 1);
  }
}

// NOTE: '\u0000' cannot occur in a queue name, job id or tenant id, so the joined keys never collide; '' is the host.
// Plain runs of a queue shared with fair jobs are one lane of that queue ('\u0000plain': no tenant id holds NUL).
const laneOf = (run: LocalRun): string =>
  `${run.definition.queue}\u0000${run.definition.fairness ? (run.tenantId ?? '') : '\u0000plain'}`;

const tierOf = (run: LocalRun): number => run.priority ?? 0;
