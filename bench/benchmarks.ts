/**
 * The list of benchmarks, in the order `npm run bench` runs them, and the runner over them. Each benchmark lives in
 * its own `bench/<name>.bench.ts`; what they share is in bench/drivers.ts.
 */
import { batch } from './batch.bench';
import { boot } from './boot.bench';
import { bulkEnqueue } from './bulk-enqueue.bench';
import { cronLag } from './cron-lag.bench';
import { BenchContext, BenchOutput } from './drivers';
import { enqueue } from './enqueue.bench';
import { fairness } from './fairness.bench';
import { fanOut } from './fan-out.bench';
import { localThroughput } from './local.bench';
import { lockRoundTrip } from './lock-roundtrip.bench';
import { rateLimit } from './rate-limit.bench';
import { recurringBacklog } from './recurring-backlog.bench';
import { runAnatomy } from './run-anatomy.bench';
import { soak } from './soak.bench';
import { step } from './step.bench';
import { clusterThroughput } from './throughput-cluster.bench';
import { throughputEndToEnd } from './throughput-e2e.bench';
import { throughput } from './throughput.bench';
import { latencyEndToEnd } from './latency-e2e.bench';

export { BenchContext, BenchOutput, BenchRow, BenchSizes, FULL_SIZES, SMOKE_SIZES } from './drivers';

export const BENCHMARKS = [
  'throughput-e2e',
  'latency-e2e',
  'run-anatomy',
  'throughput',
  'throughput-lock',
  'enqueue',
  'cron-lag',
  'boot',
  'fan-out',
  'soak',
  'lock-roundtrip',
  'local',
  'throughput-cluster',
  'fairness',
  'recurring-backlog',
  'rate-limit',
  'step',
  'batch',
  'bulk-enqueue',
] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

const RUNNERS: Record<BenchmarkName, (ctx: BenchContext) => Promise<BenchOutput>> = {
  'throughput-e2e': throughputEndToEnd,
  'latency-e2e': latencyEndToEnd,
  'run-anatomy': runAnatomy,
  throughput: (ctx) => throughput(ctx, false),
  'throughput-lock': (ctx) => throughput(ctx, true),
  enqueue,
  'cron-lag': cronLag,
  boot,
  'fan-out': fanOut,
  soak,
  'lock-roundtrip': lockRoundTrip,
  local: localThroughput,
  'recurring-backlog': recurringBacklog,
  fairness,
  'throughput-cluster': clusterThroughput,
  'rate-limit': rateLimit,
  step,
  batch,
  'bulk-enqueue': bulkEnqueue,
};

/** Runs the selected benchmarks in order against the Redis at `ctx.url`. */
export async function runBenchmarks(
  ctx: BenchContext,
  only: readonly BenchmarkName[] = BENCHMARKS,
): Promise<Record<string, BenchOutput>> {
  const results: Record<string, BenchOutput> = {};
  for (const name of BENCHMARKS) {
    if (!only.includes(name)) continue;
    const started = performance.now();
    ctx.log(`== ${name}`);
    results[name] = await RUNNERS[name](ctx);
    ctx.log(`   ${name} took ${((performance.now() - started) / 1_000).toFixed(1)} s`);
  }
  return results;
}
