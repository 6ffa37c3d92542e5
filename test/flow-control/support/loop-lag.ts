/**
 * The event loop's delays over a test, to bound how late a start was recorded. An app in this process records a run's
 * start in `execute`, after Redis counted it (the admission script, on Redis time): the reply waits for the loop, so a
 * start recorded at `r` was counted at no earlier than `r - gapAt(r)`: START_JITTER_MS for the way through the
 * pipeline, plus the longest lateness of a 10 ms tick that ended within the second before `r` (a stall in that span
 * is what can hold a reply back). On a quiet host that is a few ms; under load it grows, per start, not for the test.
 */
export const START_JITTER_MS = 40;

export class LoopLag {
  private readonly ticks: Array<{ at: number; late: number }> = [];
  private readonly timer: ReturnType<typeof setInterval>;
  private last = Date.now();

  constructor() {
    this.timer = setInterval(() => {
      const now = Date.now();
      this.ticks.push({ at: now, late: Math.max(0, now - this.last - 10) });
      this.last = now;
    }, 10);
  }

  /** How much earlier than `r` Redis may have counted a start recorded at `r`. */
  gapAt(r: number): number {
    let late = 0;
    for (const tick of this.ticks) if (tick.at >= r - 1_000 && tick.at <= r + 50) late = Math.max(late, tick.late);
    return START_JITTER_MS + late;
  }

  /** The largest gap of any of these starts. */
  maxGap(times: number[]): number {
    return Math.max(START_JITTER_MS, ...times.map((t) => this.gapAt(t)));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * The most starts of one key that Redis must have counted inside one window of `windowMs`: from each start `r_i`
 * (counted at or after `r_i - gap_i`), the starts recorded before `r_i - gap_i + windowMs`. Sound under any load: a
 * count above the limit here is a real breach, never a late recording.
 */
export function peakCounted(
  starts: Array<{ at: number; key: string }>,
  windowMs: number,
  lag: LoopLag,
): Record<string, number> {
  const peaks: Record<string, number> = {};
  for (const key of new Set(starts.map((s) => s.key))) {
    const times = starts
      .filter((s) => s.key === key)
      .map((s) => s.at)
      .sort((a, b) => a - b);
    peaks[key] = Math.max(
      ...times.map((t, i) => {
        const end = t - lag.gapAt(t) + windowMs;
        return times.slice(i).filter((u) => u < end).length;
      }),
    );
  }
  return peaks;
}
