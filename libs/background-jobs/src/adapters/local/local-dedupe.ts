import { DedupeOptions, isFinalState } from '../../contracts';
import { LocalParking } from './local-parking';
import { LocalRun } from './local-run';
import { LocalClock } from './manual-clock';

/** A key that answers enqueues with its run: until the run starts or ends, or until its window closes. */
interface HeldKey {
  runId: string;
  mode: DedupeOptions['mode'];
  /** The end of a debounce or throttle window (clock ms); the other modes end with their run. */
  expiresAt?: number;
}

/** Keys held at once before `hold` drops the expired ones whose run has ended. */
const SWEEP_ABOVE = 1000;

/**
 * The embedded transport's dedupe keys, with BullMQ's deduplication semantics: until-started and until-finished keys
 * end with their run (taken by a worker; ended), throttle and debounce keys with their window whatever the run does;
 * a debounce within the window of a run still waiting replaces its payload and restarts its wait.
 */
export class LocalDedupe {
  private readonly held = new Map<string, HeldKey>();
  /** The key each holding run holds, for `started` and `ended`. */
  private readonly keyOf = new Map<string, string>();

  constructor(
    private readonly clock: LocalClock,
    private readonly runs: ReadonlyMap<string, LocalRun>,
    private readonly parking: LocalParking,
  ) {}

  /** The delay of a new run: a debounced one waits its window, or its own delay when longer. */
  delayOf(dedupe: DedupeOptions | undefined, delayMs: number | undefined): number | undefined {
    return dedupe?.mode === 'debounce' ? Math.max(delayMs ?? 0, dedupe.ttlMs ?? 0) : delayMs;
  }

  /** The id of the run that answers this enqueue, or undefined when a new run is to be made (and then `hold`). */
  answer(jobId: string, dedupe: DedupeOptions, data: unknown, delayMs: number | undefined): string | undefined {
    const key = `${jobId}:${dedupe.key}`;
    const held = this.held.get(key);
    if (!held) return undefined;
    const now = this.clock.now();
    if (held.expiresAt !== undefined && held.expiresAt <= now) {
      this.drop(key, held);
      return undefined;
    }
    const run = this.runs.get(held.runId);
    if (dedupe.mode === 'debounce' && run && run.state === 'delayed' && !run.waiting) {
      const wait = this.delayOf(dedupe, delayMs) ?? 0;
      run.data = data;
      this.clock.clearTimer(run.timer);
      this.parking.delay(run, wait);
      held.expiresAt = now + wait;
    }
    return held.runId;
  }

  /** `runId` (not yet added) holds the key from now on. */
  hold(jobId: string, dedupe: DedupeOptions, runId: string): void {
    if (this.held.size >= SWEEP_ABOVE) this.sweep();
    const key = `${jobId}:${dedupe.key}`;
    const windowed = dedupe.mode === 'debounce' || dedupe.mode === 'throttle';
    const expiresAt = windowed ? this.clock.now() + (dedupe.ttlMs ?? 0) : undefined;
    this.held.set(key, { runId, mode: dedupe.mode, expiresAt });
    this.keyOf.set(runId, key);
  }

  /** A worker took the run: an until-started key is free again. */
  started(runId: string): void {
    const key = this.keyOf.get(runId);
    const held = key === undefined ? undefined : this.held.get(key);
    if (key !== undefined && held?.runId === runId && held.mode === 'until-started') this.drop(key, held);
  }

  /** The run ended: a key that lasts until its run ends is free again; a window lasts until it closes. */
  ended(runId: string): void {
    const key = this.keyOf.get(runId);
    if (key === undefined) return;
    const held = this.held.get(key);
    if (held?.runId !== runId) this.keyOf.delete(runId);
    else if (held.expiresAt === undefined || held.expiresAt <= this.clock.now()) this.drop(key, held);
  }

  private drop(key: string, held: HeldKey): void {
    this.held.delete(key);
    this.keyOf.delete(held.runId);
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, held] of this.held) {
      const run = this.runs.get(held.runId);
      if (held.expiresAt !== undefined && held.expiresAt <= now && (!run || isFinalState(run.state)))
        this.drop(key, held);
    }
  }
}
