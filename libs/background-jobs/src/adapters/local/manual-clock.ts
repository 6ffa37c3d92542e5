/** Time as the embedded transport sees it: the system's, or a test's `ManualClock`. */
export interface LocalClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const SYSTEM_CLOCK: LocalClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * A clock that moves only when told (`fireNext`), for tests: the embedded transport's delays, retries and cron
 * ticks wait on it instead of on real time. Timers fire in the order they fall due, each at its own time.
 */
export class ManualClock implements LocalClock {
  private current: number;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  private sequence = 0;

  constructor(start: Date) {
    this.current = start.getTime();
  }

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, ms: number): number {
    const id = ++this.sequence;
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /**
   * Fires the earliest timer due by `target` (the clock moves to its time) and returns true; false, with the
   * clock at `target`, when none is left. Step by step, so the caller can let what a timer queued run at its time.
   */
  fireNext(target: number): boolean {
    let nextId: number | undefined;
    let next: { at: number; fn: () => void } | undefined;
    for (const [id, timer] of this.timers) {
      if (timer.at <= target && (!next || timer.at < next.at)) [nextId, next] = [id, timer];
    }
    if (!next) {
      this.current = Math.max(this.current, target);
      return false;
    }
    this.timers.delete(nextId as number);
    this.current = Math.max(this.current, next.at);
    next.fn();
    return true;
  }
}
