import { isTick, JobRegistry } from '../../core';
import { LocalFairLanes } from './local-fair-lanes';
import { insertByTier, LocalRun } from './local-run';

/**
 * The embedded transport's runs waiting for a worker: ticks first, then plain runs, then fair runs round robin (as
 * BullMQ takes its wait list before prioritized jobs). Runs held back by admission are not here: they are parked.
 */
export class LocalWaitingLine {
  private readonly plain: LocalRun[] = [];
  /** Runs of fair jobs: taken after `plain`, round robin between tenants. */
  private readonly fair = new LocalFairLanes();
  /** Queues that hold a fair job: their plain runs are one lane of the round robin, not ahead of every fair run. */
  private fairQueues = new Set<string>();

  get size(): number {
    return this.plain.length + this.fair.size;
  }

  /** Learns which queues hold fair jobs, and re-sorts what was queued before start accordingly. */
  use(registry: JobRegistry): void {
    this.fairQueues = new Set(
      registry
        .all()
        .filter((definition) => definition.fairness)
        .map((definition) => definition.queue),
    );
    for (const waiting of this.plain.splice(this.ticksWaiting())) this.push(waiting);
  }

  /** Queues a run behind the runs of its tier or lower (at the front: a run handed back by shutdown). */
  push(run: LocalRun, front = false): void {
    if (run.definition.fairness || this.fairQueues.has(run.definition.queue)) this.fair.push(run, front);
    else if (front) this.plain.unshift(run);
    else insertByTier(this.plain, run, this.ticksWaiting());
  }

  /** A tick goes ahead of every waiting run, fair or not, as on BullMQ, so a backlog never starves a schedule. */
  pushTick(run: LocalRun): void {
    this.plain.splice(this.ticksWaiting(), 0, run);
  }

  /** A tenant's shares of its queue's round robin (null: one share). */
  setWeight(queue: string, tenantId: string | null, weight: number | null): void {
    this.fair.setWeight(queue, tenantId, weight);
  }

  take(): LocalRun | undefined {
    return this.plain.shift() ?? this.fair.take();
  }

  /** Takes a waiting run out of the line (cancel); false when it is not waiting here. */
  remove(run: LocalRun): boolean {
    const index = this.plain.indexOf(run);
    if (index < 0) return this.fair.remove(run);
    this.plain.splice(index, 1);
    return true;
  }

  /** Ticks at the head of the line (a new tick goes after them, before every other run). */
  private ticksWaiting(): number {
    let index = 0;
    while (index < this.plain.length && isTick(this.plain[index].kind) && this.plain[index].attemptsMade === 0)
      index += 1;
    return index;
  }
}
