/** The embedded (in-process) transport: enqueue + run, runs per second at each concurrency. */
import { BackgroundJobs } from 'nestjs-background-jobs';
import { BenchContext, BenchOutput, DRAIN_TIMEOUT_MS, NOOP_JOB_ID, pool } from './drivers';
import { defineJob, median, round, startApp, waitFor } from './support';

export async function localThroughput(ctx: BenchContext): Promise<BenchOutput> {
  const n = ctx.sizes.localJobs;
  const out: BenchOutput = { figures: {}, rows: [], details: {} };
  for (const concurrency of ctx.sizes.concurrencies) {
    const runs: number[] = [];
    for (let rep = 0; rep < ctx.sizes.reps; rep++) {
      let count = 0;
      const LocalJob = defineJob('LocalNoopJob', { id: NOOP_JOB_ID }, () => {
        count += 1;
      });
      const app = await startApp({ redis: 'local', jobs: [LocalJob], worker: { concurrency } });
      try {
        const jobs = app.get(BackgroundJobs);
        const started = performance.now();
        await pool(n, 50, () => jobs.enqueue(LocalJob));
        await waitFor(`${n} local runs`, () => count >= n, DRAIN_TIMEOUT_MS, 1);
        runs.push((n * 1_000) / (performance.now() - started));
      } finally {
        await app.close();
      }
    }
    const value = median(runs);
    ctx.log(`local c=${concurrency}: ${runs.map((r) => Math.round(r)).join('/')} runs/s`);
    out.figures[`c${concurrency}`] = value;
    out.details[`c${concurrency}`] = { jobs: n, median: value, runs: runs.map((r) => round(r, 1)) };
    out.rows.push({
      benchmark: 'embedded transport',
      figure: `concurrency ${concurrency}: enqueue + run, runs/s`,
      value: `${Math.round(value)}`,
    });
  }
  return out;
}
