/**
 * The most of these times (milliseconds, any order) inside any one window of `windowMs` (half-open: a time exactly
 * `windowMs` after another is in the next window). For checks that a limit of N per window held.
 */
export function peakInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}
