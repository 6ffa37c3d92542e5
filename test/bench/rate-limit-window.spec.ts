import { mostInAnyWindow, useOfLimit } from '../../bench/rate-limit.bench';

// NOTE: the two functions the rate-limit bench judges a limit with: a wrong window count would pass a broken limit.
describe('bench: rate-limit window arithmetic', () => {
  it('counts the most starts in any half-open window [t, t + window)', () => {
    expect(mostInAnyWindow([0, 100, 999, 1_000, 1_500], 1_000)).toBe(3);
    expect(mostInAnyWindow([0, 1_000, 2_000], 1_000)).toBe(1);
    expect(mostInAnyWindow([5, 5, 5, 6], 1)).toBe(3);
    expect(mostInAnyWindow([], 1_000)).toBe(0);
  });

  it('use: the rate after the first window-full of starts, over the limit', () => {
    // 5 per second, starts exactly one window apart per place: the limit fully used.
    const perfect = Array.from({ length: 20 }, (_, i) => Math.floor(i / 5) * 1_000 + (i % 5));
    expect(useOfLimit(perfect, 5, 1_000)).toBeCloseTo(1, 2);
    // Every window opened 100 ms late: 15 starts over 3.3 s instead of 3 s.
    const late = Array.from({ length: 20 }, (_, i) => Math.floor(i / 5) * 1_100);
    expect(useOfLimit(late, 5, 1_000)).toBeCloseTo(3 / 3.3, 2);
    expect(useOfLimit([0, 1], 5, 1_000)).toBeNaN();
  });
});
