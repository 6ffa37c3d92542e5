import { LocalRun } from './local-run';

/**
 * The embedded transport's fair runs (`@PipelineJob({ fairness })`): one lane per (queue, tenant), taken round robin.
 * Host-level runs are one lane, and so are the plain runs of a queue shared with fair jobs (as on BullMQ,
 * docs/fairness.md). Ordering only: a tenant's `concurrencyPerTenant` is admission's (docs/flow-control.md).
 */
export class LocalFairLanes {
  private readonly lanes = new Map<string, LocalRun[]>();
  /** Lanes with runs, in the order they get their next turn. */
  private readonly order: string[] = [];

  /** Runs waiting in every lane. */
  get size(): number {
    let total = 0;
    for (const lane of this.lanes.values()) total += lane.length;
    return total;
  }

  /** Queues a run at the back of its lane (the front for a run handed back by shutdown). */
  push(run: LocalRun, front = false): void {
    const key = laneOf(run);
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = [];
      this.lanes.set(key, lane);
      this.order.push(key);
    }
    if (front) lane.unshift(run);
    else lane.push(run);
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

  /** The next run in round robin, or undefined. */
  take(): LocalRun | undefined {
    const key = this.order.shift();
    if (key === undefined) return undefined;
    const lane = this.lanes.get(key) as LocalRun[];
    const run = lane.shift() as LocalRun;
    if (lane.length > 0) this.order.push(key);
    else this.lanes.delete(key);
    return run;
  }

  private drop(key: string): void {
    this.lanes.delete(key);
    const index = this.order.indexOf(key);
    if (index >= 0) this.order.splice(index, 1);
  }
}

// NOTE: '\u0000' cannot occur in a queue name, job id or tenant id, so the joined keys never collide; '' is the host.
// Plain runs of a queue shared with fair jobs are one lane of that queue ('\u0000plain': no tenant id holds NUL).
const laneOf = (run: LocalRun): string =>
  `${run.definition.queue}\u0000${run.definition.fairness ? (run.tenantId ?? '') : '\u0000plain'}`;
