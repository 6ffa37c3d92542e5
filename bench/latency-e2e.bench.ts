/**
 * End-to-end latency, what a user feels: from `enqueue` resolving to `execute` entered, at a steady `LATENCY_RATE`
 * runs per second with the worker running at concurrency 10. Raw BullMQ: from `Queue.add` resolving (same attempts
 * and retention) to a `Worker`'s processor entered. The first tenth of each pass is dropped as warm-up.
 */
import { Job, Queue, Worker } from 'bullmq';
import { BackgroundJobs } from 'nestjs-background-jobs';
import { BenchContext, BenchOutput, DRAIN_TIMEOUT_MS, Side, sideBySide, summary } from './drivers';
import {
  benchPrefix,
  DEFAULT_QUEUE,
  defineJob,
  deletePrefix,
  FRAMEWORK_DEFAULT_JOB_OPTIONS,
  median,
  quantile,
  round,
  sleep,
  startApp,
  waitFor,
} from './support';

/** Enqueues per second, spread evenly. */
const LATENCY_RATE = 200;
const LATENCY_CONCURRENCY = 10;
const LATENCY_JOB_ID = 'bench-latency';

/** Latencies (ms) of one pass of `runs` runs on `side`, warm-up dropped. */
async function latencyPass(ctx: BenchContext, side: Side, runs: number): Promise<number[]> {
  const prefix = benchPrefix(`lat-${side}`);
  const resolvedAt = new Map<string, number>();
  const enteredAt = new Map<string, number>();
  let add: () => Promise<unknown>;
  let stop: () => Promise<unknown>;
  if (side === 'framework') {
    const Job = defineJob('LatencyJob', { id: LATENCY_JOB_ID }, (run) => {
      enteredAt.set(run.executionId, performance.now());
    });
    const app = await startApp({ redis: ctx.url, prefix, jobs: [Job], worker: { concurrency: LATENCY_CONCURRENCY } });
    const jobs = app.get(BackgroundJobs);
    add = () => jobs.enqueue(Job).then((id) => resolvedAt.set(id, performance.now()));
    stop = () => app.close();
  } else {
    const connection = { url: ctx.url };
    const queue = new Queue(DEFAULT_QUEUE, { connection, prefix });
    const worker = new Worker(
      DEFAULT_QUEUE,
      async (job: Job) => {
        enteredAt.set(job.id as string, performance.now());
      },
      { connection, prefix, concurrency: LATENCY_CONCURRENCY },
    );
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    add = () =>
      queue
        .add(LATENCY_JOB_ID, {}, FRAMEWORK_DEFAULT_JOB_OPTIONS)
        .then((job) => resolvedAt.set(job.id as string, performance.now()));
    stop = async () => {
      await worker.close();
      await queue.close();
    };
  }
  try {
    const interval = 1_000 / LATENCY_RATE;
    const started = performance.now();
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < runs; i++) {
      // NOTE: paced against the start, not the previous call: a late timer is made up by the next calls, so the
      // pass keeps the rate on average.
      const wait = started + i * interval - performance.now();
      if (wait >= 1) await sleep(wait);
      calls.push(add());
    }
    await Promise.all(calls);
    await waitFor(`${runs} ${side} runs entered`, () => enteredAt.size >= runs, DRAIN_TIMEOUT_MS, 5);
  } finally {
    await stop();
    await deletePrefix(prefix, ctx.url);
  }
  const ordered = [...resolvedAt.entries()].sort((a, b) => a[1] - b[1]);
  return ordered
    .slice(Math.floor(runs / 10))
    .map(([id, resolved]) => (enteredAt.get(id) as number) - resolved)
    .map((ms) => round(ms, 3));
}

export async function latencyEndToEnd(ctx: BenchContext): Promise<BenchOutput> {
  const runs = ctx.sizes.latencyRuns;
  const p50: Record<Side, number[]> = { framework: [], raw: [], nestjs: [] };
  const all: Record<Side, number[]> = { framework: [], raw: [], nestjs: [] };
  // NOTE: one unmeasured pass per side first (JIT, connections).
  for (const side of ['framework', 'raw'] as Side[]) await latencyPass(ctx, side, Math.min(runs, 200));
  const p99 = await sideBySide(ctx.sizes.reps, async (side) => {
    const samples = await latencyPass(ctx, side, runs);
    p50[side].push(quantile(samples, 0.5));
    all[side].push(...samples);
    return quantile(samples, 0.99);
  });
  const fwP50 = median(p50.framework);
  const rawP50 = median(p50.raw);
  ctx.log(
    `latency-e2e: p99 framework ${p99.framework.runs.join('/')} raw ${p99.raw.runs.join('/')} ms, ratio ${p99.ratio.runs.join('/')}; p50 ${p50.framework.map((v) => round(v, 2)).join('/')} vs ${p50.raw.map((v) => round(v, 2)).join('/')} ms`,
  );
  const label = '0. latency, end to end';
  return {
    figures: {
      'framework.p50': fwP50,
      'framework.p99': p99.framework.median,
      'raw.p50': rawP50,
      'raw.p99': p99.raw.median,
      p99Ratio: p99.ratio.median,
    },
    rows: [
      {
        benchmark: label,
        figure: `enqueue resolved → execute entered, ${LATENCY_RATE} runs/s, c = ${LATENCY_CONCURRENCY}: framework p50 / p99 (raw BullMQ)`,
        value: `${fwP50.toFixed(2)} / ${p99.framework.median.toFixed(2)} ms (${rawP50.toFixed(2)} / ${p99.raw.median.toFixed(2)} ms)`,
      },
      {
        benchmark: label,
        figure: 'p99 framework / raw (median of the per-pair ratios)',
        value: `${p99.ratio.median.toFixed(2)}×`,
        goal: '≤ 1.2× raw',
        met: p99.ratio.median <= 1.2,
      },
    ],
    details: {
      runsPerPass: runs,
      rate: LATENCY_RATE,
      concurrency: LATENCY_CONCURRENCY,
      p99,
      p50: { framework: p50.framework, raw: p50.raw },
      framework: summary(all.framework),
      raw: summary(all.raw),
    },
  };
}
