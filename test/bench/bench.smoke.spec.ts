import { BENCHMARKS, runBenchmarks, SMOKE_SIZES } from '../../bench/benchmarks';
import { testRedisUrl } from '../support/redis';

// NOTE: keeps bench/ from rotting: every benchmark runs at a tiny size on the suite's Redis and must produce its
// figures. It asserts that a figure came out, never how fast: speeds are for `npm run bench` (bench/README.md).
describe('bench smoke: every benchmark runs at a tiny size', () => {
  it('produces a finite figure for every benchmark', async () => {
    const results = await runBenchmarks({ url: testRedisUrl(), sizes: SMOKE_SIZES, log: () => undefined });

    expect(Object.keys(results).sort()).toEqual([...BENCHMARKS].sort());
    for (const name of BENCHMARKS) {
      const { figures, rows } = results[name];
      expect({ name, figures: Object.keys(figures).length > 0, rows: rows.length > 0 }).toEqual({
        name,
        figures: true,
        rows: true,
      });
      for (const [figure, value] of Object.entries(figures)) {
        expect({ figure: `${name}.${figure}`, finite: Number.isFinite(value) }).toEqual({
          figure: `${name}.${figure}`,
          finite: true,
        });
      }
    }
    // NOTE: a bound on a hung benchmark, not a speed: the whole run took 44 s at load average 10 on 2 shared cores.
  }, 120_000);
});
