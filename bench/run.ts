/**
 * `npm run bench`: starts its own redis-server on a free port, runs every benchmark (framework and raw BullMQ side
 * by side), prints a table and writes bench/results.json. See bench/README.md for what each figure means.
 *
 * Knobs (environment): BENCH_SMOKE=1 (the smoke test's tiny sizes)  BENCH_ONLY=throughput,boot,…  BENCH_REPS  BENCH_THROUGHPUT_JOBS  BENCH_CONCURRENCIES=1,10,50
 * BENCH_ENQUEUE_JOBS  BENCH_CRON_TICKS  BENCH_BOOT_JOBS  BENCH_TENANTS  BENCH_SOAK_RUNS  BENCH_LOCK_ITERATIONS
 * BENCH_LOCAL_JOBS  BENCH_BACKLOG_JOBS  BENCH_FAIR_FLOOD  BENCH_FAIR_TENANTS  BENCH_LATENCY_RUNS
 * BENCH_RATE_MAX  BENCH_RATE_WINDOW_MS  BENCH_RATE_BACKLOG  BENCH_RATE_DRAIN_RUNS  BENCH_RATE_PARKED  BENCH_RATE_IDLE_MS
 * BENCH_RATE_KEYS  BENCH_STEP_RUNS  BENCH_BATCH_CHILDREN  BENCH_BULK_RUNS  BENCH_REDIS_URL (use that Redis instead of starting one)  BENCH_OUT (results file)
 * BENCH_RESULTS_NAME (file name of the results without .json; `npm run bench:node24` sets results.node24).
 * A run with any knob changed writes bench/results.local.json (git-ignored) unless BENCH_OUT says otherwise.
 */
import { join } from 'node:path';
import { TestRedisServer } from '../test/support/redis-server';
import { BenchmarkName, BENCHMARKS, runBenchmarks } from './benchmarks';
import { BenchSizes, FULL_SIZES, printTable, SMOKE_SIZES, writeResults } from './drivers';
import { describeMachine, redisClient } from './support';

function sizesFromEnv(): { sizes: BenchSizes; changed: boolean } {
  const smoke = process.env.BENCH_SMOKE === '1';
  const sizes: BenchSizes = { ...(smoke ? SMOKE_SIZES : FULL_SIZES) };
  const knobs: [keyof BenchSizes, string][] = [
    ['reps', 'BENCH_REPS'],
    ['throughputJobs', 'BENCH_THROUGHPUT_JOBS'],
    ['enqueueJobs', 'BENCH_ENQUEUE_JOBS'],
    ['cronTicks', 'BENCH_CRON_TICKS'],
    ['bootJobs', 'BENCH_BOOT_JOBS'],
    ['tenants', 'BENCH_TENANTS'],
    ['soakRuns', 'BENCH_SOAK_RUNS'],
    ['lockIterations', 'BENCH_LOCK_ITERATIONS'],
    ['localJobs', 'BENCH_LOCAL_JOBS'],
    ['backlogJobs', 'BENCH_BACKLOG_JOBS'],
    ['fairFlood', 'BENCH_FAIR_FLOOD'],
    ['fairIdleTenants', 'BENCH_FAIR_TENANTS'],
    ['latencyRuns', 'BENCH_LATENCY_RUNS'],
    ['rateLimitMax', 'BENCH_RATE_MAX'],
    ['rateLimitWindowMs', 'BENCH_RATE_WINDOW_MS'],
    ['rateLimitBacklog', 'BENCH_RATE_BACKLOG'],
    ['rateLimitDrainRuns', 'BENCH_RATE_DRAIN_RUNS'],
    ['rateLimitParked', 'BENCH_RATE_PARKED'],
    ['rateLimitIdleMs', 'BENCH_RATE_IDLE_MS'],
    ['rateLimitKeys', 'BENCH_RATE_KEYS'],
    ['stepRuns', 'BENCH_STEP_RUNS'],
    ['batchChildren', 'BENCH_BATCH_CHILDREN'],
    ['bulkRuns', 'BENCH_BULK_RUNS'],
  ];
  let changed = smoke;
  for (const [field, name] of knobs) {
    const raw = process.env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name}=${raw}: expected a positive integer`);
    (sizes[field] as number) = value;
    changed = true;
  }
  if (process.env.BENCH_CONCURRENCIES) {
    sizes.concurrencies = process.env.BENCH_CONCURRENCIES.split(',').map(Number);
    if (sizes.concurrencies.some((c) => !Number.isInteger(c) || c < 1))
      throw new Error('BENCH_CONCURRENCIES: expected e.g. 1,10,50');
    changed = true;
  }
  return { sizes, changed };
}

function selected(): BenchmarkName[] {
  const raw = process.env.BENCH_ONLY;
  if (!raw) return [...BENCHMARKS];
  const names = raw.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
  if (unknown.length)
    throw new Error(`BENCH_ONLY: unknown benchmark(s) ${unknown.join(', ')}; known: ${BENCHMARKS.join(', ')}`);
  return names as BenchmarkName[];
}

async function main(): Promise<void> {
  const { sizes, changed } = sizesFromEnv();
  const only = selected();
  const external = process.env.BENCH_REDIS_URL;
  const server = external ? undefined : await TestRedisServer.create();
  const url = external ?? (server as TestRedisServer).url;
  const started = Date.now();
  const log = (line: string) => console.log(`[bench +${((Date.now() - started) / 1_000).toFixed(0)}s] ${line}`);
  try {
    const redis = redisClient(url);
    const machine = await describeMachine(redis);
    redis.disconnect();
    log(
      `redis ${String(machine.redis)} at ${url}; ${String(machine.cores)} × ${String(machine.cpuModel)}; node ${process.version}`,
    );
    const results = await runBenchmarks({ url, sizes, log }, only);
    const rows = Object.values(results).flatMap((result) => result.rows);
    console.log(`\n${printTable(rows)}\n`);
    const partial = changed || only.length !== BENCHMARKS.length;
    // NOTE: `npm run bench:node24` names its full run bench/results.node24.json (BENCH_RESULTS_NAME), so both are kept.
    const name = process.env.BENCH_RESULTS_NAME ?? 'results';
    const out = process.env.BENCH_OUT ?? join(__dirname, partial ? `${name}.local.json` : `${name}.json`);
    writeResults(out, { started, machine, sizes, results });
    log(`wrote ${out}`);
  } finally {
    await server?.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
