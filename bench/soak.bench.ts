/** 7. Soak: RSS and heap over N runs through the framework (enqueue + run, bounded backlog). */
import { BackgroundJobs } from 'nestjs-background-jobs';
import { BenchContext, BenchOutput, DRAIN_TIMEOUT_MS } from './drivers';
import { benchPrefix, collectGarbage, defineJob, deletePrefix, round, sleep, startApp, waitFor } from './support';

export async function soak(ctx: BenchContext): Promise<BenchOutput> {
  const total = ctx.sizes.soakRuns;
  const warmup = Math.max(1, Math.min(10_000, Math.round(total / 10)));
  const prefix = benchPrefix('soak');
  let done = 0;
  const SoakJob = defineJob('SoakJob', { id: 'bench-soak' }, () => {
    done += 1;
  });
  const app = await startApp({ redis: ctx.url, prefix, jobs: [SoakJob], worker: { concurrency: 50 } });
  const jobs = app.get(BackgroundJobs);
  const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
  const samples: { runs: number; rssMb: number; heapUsedMb: number }[] = [];
  const sample = () => {
    collectGarbage();
    const usage = process.memoryUsage();
    samples.push({ runs: done, rssMb: mb(usage.rss), heapUsedMb: mb(usage.heapUsed) });
    return usage;
  };
  let baseline: NodeJS.MemoryUsage | undefined;
  let end: NodeJS.MemoryUsage = process.memoryUsage();
  let nextSample = warmup;
  const started = performance.now();
  let finished = started;
  try {
    let enqueued = 0;
    while (enqueued < total) {
      // NOTE: bounded backlog: the soak measures the process, not a Redis list of 100k waiting jobs.
      if (enqueued - done > 5_000) {
        await sleep(5);
      } else {
        const batch = Math.min(500, total - enqueued);
        await Promise.all(Array.from({ length: batch }, (_, k) => jobs.enqueue(SoakJob, { n: enqueued + k })));
        enqueued += batch;
      }
      if (done >= nextSample) {
        const usage = sample();
        baseline ??= usage;
        nextSample += Math.max(1, Math.round(total / 10));
      }
    }
    await waitFor(`${total} soak runs`, () => done >= total, DRAIN_TIMEOUT_MS, 20);
    // NOTE: measured with the app still up, so closing its connections cannot hide growth.
    finished = performance.now();
    end = sample();
  } finally {
    await app.close();
    await deletePrefix(prefix, ctx.url);
  }
  const seconds = (finished - started) / 1_000;
  baseline ??= end;
  // NOTE: conservative: growth from the lowest sample after warm-up, not from the first one, which can still hold
  // pages the earlier benchmarks freed but the allocator had not yet given back to the OS.
  const growthMb = round(samples[samples.length - 1].rssMb - Math.min(...samples.map((s) => s.rssMb)), 1);
  const heapGrowthMb = round(samples[samples.length - 1].heapUsedMb - Math.min(...samples.map((s) => s.heapUsedMb)), 1);
  ctx.log(
    `soak: ${total} runs in ${seconds.toFixed(1)} s; RSS ${mb(baseline.rss)} → ${mb(end.rss)} MB; growth ${growthMb} MB`,
  );
  return {
    figures: { rssGrowthMb: growthMb, heapGrowthMb, runsPerSecond: total / seconds },
    rows: [
      {
        benchmark: '7. soak',
        figure: `${total} runs: RSS growth after ${warmup} warm-up runs (heap growth), rate`,
        value: `${growthMb} MB (${heapGrowthMb} MB), ${Math.round(total / seconds)} runs/s`,
        goal: '≤ 10 MB',
        met: growthMb <= 10,
      },
    ],
    details: {
      runs: total,
      warmupRuns: warmup,
      seconds: round(seconds, 1),
      baselineRssMb: mb(baseline.rss),
      endRssMb: mb(end.rss),
      samples,
    },
  };
}
