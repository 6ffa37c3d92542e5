/**
 * The drivers every benchmark shares: sizes, the row and result shapes, side-by-side alternating pairs, a bounded
 * pool of calls in flight, `addBulk` pre-fill, the pre-filled no-op drain, and the results file.
 */
import { writeFileSync } from 'node:fs';
import { JobsOptions, Queue, Worker } from 'bullmq';
import { BackgroundJobs, JobContext, PipelineJobOptions } from 'nestjs-background-jobs';
import { BullmqTransport } from '../libs/background-jobs/src/adapters/bullmq';
import { JobRegistry, resolveOptions } from '../libs/background-jobs/src/core';
import {
  benchPrefix,
  commandDelta,
  commandStats,
  DEFAULT_QUEUE,
  defineJob,
  deleteKeysUnder,
  FRAMEWORK_DEFAULT_JOB_OPTIONS,
  median,
  quantile,
  redisClient,
  round,
  startApp,
  startNestBullmqApp,
  waitFor,
} from './support';

/** How big each benchmark is. `FULL_SIZES` is `npm run bench`; the smoke test uses tiny ones. */
export interface BenchSizes {
  /** Side-by-side repetitions of every framework/raw pair (median reported). */
  reps: number;
  /** No-op runs drained per throughput measurement (a quarter of it at concurrency 1). */
  throughputJobs: number;
  concurrencies: number[];
  enqueueJobs: number;
  /** One-second cron ticks sampled, after `cronWarmupTicks` dropped. */
  cronTicks: number;
  cronWarmupTicks: number;
  bootJobs: number;
  tenants: number;
  soakRuns: number;
  lockIterations: number;
  localJobs: number;
  /** Enqueued runs a one-second recurring job shares its queue with (recurring start lag under a backlog). */
  backlogJobs: number;
  /** Fairness: the flooding tenant's runs, the quiet tenants and each one's runs, and tenants for the memory figure. */
  fairFlood: number;
  fairQuietTenants: number;
  fairQuietRuns: number;
  fairIdleTenants: number;
  /** Runs per end-to-end latency pass (at 200 runs/s: 2,000 is 10 s). */
  latencyRuns: number;
  /** Rate limit: the limit and backlog of the precision figure, runs per headroom drain, runs parked, the window the
   * parked Redis load is read over, and keys for the memory figure. */
  rateLimitMax: number;
  rateLimitWindowMs: number;
  rateLimitBacklog: number;
  rateLimitDrainRuns: number;
  rateLimitParked: number;
  rateLimitIdleMs: number;
  rateLimitKeys: number;
  /** Runs per drain of the step benchmark (with one `ctx.step`, and without). */
  stepRuns: number;
  /** Children of the batch (and runs enqueued without one). */
  batchChildren: number;
  /** Runs per pass of the bulk-enqueue benchmark (`jobs.batch`, coalesced `enqueue`, `Queue.addBulk`). */
  bulkRuns: number;
}

export const FULL_SIZES: BenchSizes = {
  reps: 5,
  throughputJobs: 20_000,
  concurrencies: [1, 10, 50],
  enqueueJobs: 4_000,
  cronTicks: 60,
  cronWarmupTicks: 2,
  bootJobs: 1_000,
  tenants: 1_000,
  soakRuns: 100_000,
  lockIterations: 2_000,
  localJobs: 20_000,
  backlogJobs: 10_000,
  fairFlood: 10_000,
  fairQuietTenants: 50,
  fairQuietRuns: 10,
  fairIdleTenants: 10_000,
  latencyRuns: 2_000,
  rateLimitMax: 50,
  rateLimitWindowMs: 1_000,
  rateLimitBacklog: 500,
  rateLimitDrainRuns: 30_000,
  rateLimitParked: 10_000,
  rateLimitIdleMs: 5_000,
  rateLimitKeys: 10_000,
  stepRuns: 10_000,
  batchChildren: 10_000,
  bulkRuns: 10_000,
};

export const SMOKE_SIZES: BenchSizes = {
  reps: 1,
  throughputJobs: 40,
  concurrencies: [1, 5],
  enqueueJobs: 40,
  cronTicks: 2,
  cronWarmupTicks: 1,
  bootJobs: 20,
  tenants: 20,
  soakRuns: 400,
  lockIterations: 20,
  localJobs: 40,
  backlogJobs: 300,
  fairFlood: 100,
  fairQuietTenants: 3,
  fairQuietRuns: 2,
  fairIdleTenants: 20,
  latencyRuns: 40,
  rateLimitMax: 3,
  rateLimitWindowMs: 200,
  rateLimitBacklog: 9,
  rateLimitDrainRuns: 40,
  rateLimitParked: 20,
  rateLimitIdleMs: 200,
  rateLimitKeys: 20,
  stepRuns: 40,
  batchChildren: 40,
  bulkRuns: 40,
};

/** One line of the printed table. */
export interface BenchRow {
  benchmark: string;
  figure: string;
  value: string;
  goal?: string;
  met?: boolean;
}

/** What one benchmark produced: numbers by name (what the smoke test checks), table rows, and raw detail. */
export interface BenchOutput {
  figures: Record<string, number>;
  rows: BenchRow[];
  details: Record<string, unknown>;
}

export interface BenchContext {
  url: string;
  sizes: BenchSizes;
  log: (line: string) => void;
}

export const NOOP_JOB_ID = 'bench-noop';
/** Generous bound for any single drain, so a stuck run fails the bench instead of hanging it. */
export const DRAIN_TIMEOUT_MS = 180_000;

/** `nestjs`: a `@nestjs/bullmq` `@Processor`/`WorkerHost`, the Nest user's usual alternative (throughput only). */
export type Side = 'framework' | 'raw' | 'nestjs';

/**
 * The order of the sides in repetition `rep`: rotated by one every repetition and reversed every other one, so no
 * side always runs first or right after another. With two sides: framework first, then raw first, …
 */
export function orderOf(rep: number, sides: readonly Side[]): Side[] {
  const shift = rep % sides.length;
  const rotated = [...sides.slice(shift), ...sides.slice(0, shift)];
  return rep % 2 === 0 ? rotated : rotated.reverse();
}

/** Runs `fn(i)` for i in [0, n) with at most `width` calls in flight. */
export async function pool(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** Adds `n` jobs in batches of 1,000 with `addBulk`. */
export async function fill(
  queue: Queue,
  n: number,
  make: (i: number) => { name: string; data: unknown; opts?: JobsOptions },
): Promise<void> {
  for (let start = 0; start < n; start += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, n - start) }, (_, k) => make(start + k));
    await queue.addBulk(batch);
  }
}

export interface SideFigures {
  median: number;
  runs: number[];
}

/**
 * Side-by-side repetitions: `measure(side)` for the framework and each of `others` (default: raw), order rotating
 * (`orderOf`), `reps` times. `ratio` = framework / raw per repetition; `ratioNestjs` = framework / nestjs.
 */
export async function sideBySide(
  reps: number,
  measure: (side: Side) => Promise<number>,
  afterPair?: () => Promise<void>,
  others: Side[] = ['raw'],
) {
  const sides: Side[] = ['framework', ...others];
  const values = new Map<Side, number[]>(sides.map((side) => [side, []]));
  const ratios = new Map<Side, number[]>(others.map((side) => [side, []]));
  for (let rep = 0; rep < reps; rep++) {
    const pair: Partial<Record<Side, number>> = {};
    for (const side of orderOf(rep, sides)) pair[side] = await measure(side);
    await afterPair?.();
    for (const side of sides) values.get(side)?.push(pair[side] as number);
    for (const side of others) ratios.get(side)?.push((pair.framework as number) / (pair[side] as number));
  }
  const figures = (samples: number[] = [], digits = 1): SideFigures => ({
    median: median(samples),
    runs: samples.map((v) => round(v, digits)),
  });
  return {
    framework: figures(values.get('framework')),
    raw: figures(values.get('raw')),
    ratio: figures(ratios.get('raw'), 3),
    ...(others.includes('nestjs')
      ? { nestjs: figures(values.get('nestjs')), ratioNestjs: figures(ratios.get('nestjs'), 3) }
      : {}),
  };
}

/** Counts the runs entered and times the first to the last, with this process's CPU time over the same window. */
export class RunClock {
  count = 0;
  private first = 0;
  private last = 0;
  private cpuFirst = process.cpuUsage();
  private cpuLast = this.cpuFirst;

  constructor(readonly expected: number) {}

  /** The no-op body: call it as each run is entered. */
  readonly enter = (): void => {
    const now = performance.now();
    if (this.count === 0) {
      this.first = now;
      this.cpuFirst = process.cpuUsage();
    }
    this.last = now;
    this.count += 1;
    if (this.count === this.expected) this.cpuLast = process.cpuUsage(this.cpuFirst);
  };

  get done(): boolean {
    return this.count >= this.expected;
  }

  /** Runs per second between the first and the last run entered. */
  rate(): number {
    return ((this.expected - 1) * 1_000) / (this.last - this.first);
  }

  cpuUsPerRun(): number {
    return (this.cpuLast.user + this.cpuLast.system) / (this.expected - 1);
  }
}

/**
 * Starts the consumer of one side on the default queue under `prefix`, calling `body` as each no-op run is entered:
 * the framework app (`worker.concurrency`), the library's transport without the pipeline (attribution), a
 * `@nestjs/bullmq` `WorkerHost`, or a raw BullMQ `Worker`. Resolves how to stop it.
 */
export async function startConsumer(
  ctx: BenchContext,
  side: Side | 'transport',
  prefix: string,
  concurrency: number,
  body: () => void,
  lock = false,
): Promise<() => Promise<unknown>> {
  const connection = { url: ctx.url };
  if (side === 'framework') {
    const NoopJob = defineJob('NoopJob', { id: NOOP_JOB_ID, ...(lock ? { lock: { ttlMs: 30_000 } } : {}) }, body);
    const app = await startApp({ redis: ctx.url, prefix, jobs: [NoopJob], worker: { concurrency } });
    return () => app.close();
  }
  if (side === 'transport') {
    // NOTE: attribution only: the library's BullMQ transport with a handler that skips the whole pipeline, so
    // raw → transport → framework splits the per-run cost between the adapter and the pipeline.
    const NoopJob = defineJob('NoopJob', { id: NOOP_JOB_ID });
    const app = await startApp({ redis: ctx.url, prefix, jobs: [NoopJob], worker: false });
    // The module's default worker options (what `forRoot` resolves) at this concurrency, wired as the module wires them.
    const { worker } = resolveOptions({ transport: { type: 'bullmq', connection, prefix }, worker: { concurrency } });
    const transport = new BullmqTransport({ connection, prefix, worker });
    await transport.start(app.get(JobRegistry), async () => {
      body();
      return { status: 'completed', value: undefined };
    });
    return async () => {
      await transport.close();
      await app.close();
    };
  }
  if (side === 'nestjs') {
    const app = await startNestBullmqApp(ctx.url, prefix, DEFAULT_QUEUE, concurrency, body);
    return () => app.close();
  }
  const worker = new Worker(DEFAULT_QUEUE, async () => body(), { connection, prefix, concurrency });
  worker.on('error', (error) => ctx.log(`raw worker error: ${error.message}`));
  return () => worker.close();
}

/**
 * Drains `jobs` no-op runs, pre-filled identically for both sides (same envelope, same job options), and returns
 * runs per second between the first and the last `execute` entered: boot and worker start-up are not measured.
 */
export async function drain(
  ctx: BenchContext,
  side: Side | 'transport',
  concurrency: number,
  jobs: number,
  lock: boolean,
): Promise<DrainResult> {
  const prefix = benchPrefix(`tp${lock ? 'l' : ''}${concurrency}`);
  const queue = new Queue(DEFAULT_QUEUE, { connection: { url: ctx.url }, prefix });
  // NOTE: with the lock on, every run carries its own tenant so its lock key (`<job>:<tenant>`) is uncontended:
  // this measures the cost of taking and releasing a lease, not of skipping busy runs.
  await fill(queue, jobs, (i) => ({
    name: NOOP_JOB_ID,
    data: { bgj: 1, tenantId: lock ? `t${i}` : null },
    opts: FRAMEWORK_DEFAULT_JOB_OPTIONS,
  }));
  const clock = new RunClock(jobs);
  const stats = redisClient(ctx.url);
  const redisCpuBefore = await redisCpuSeconds(stats);
  let redisCpuAfter = redisCpuBefore;
  const commandsBefore = await commandStats(stats);
  let commands: Record<string, number> = {};
  const stop = await startConsumer(ctx, side, prefix, concurrency, clock.enter, lock);
  try {
    await waitFor(`${jobs} ${side} runs`, () => clock.done, DRAIN_TIMEOUT_MS, 5);
    redisCpuAfter = await redisCpuSeconds(stats);
    commands = commandDelta(commandsBefore, await commandStats(stats)).byCommand;
  } finally {
    await stop();
    await queue.close();
    await deleteKeysUnder(stats, prefix);
    stats.disconnect();
  }
  return {
    rate: clock.rate(),
    cpuUsPerRun: clock.cpuUsPerRun(),
    redisCpuUsPerRun: ((redisCpuAfter - redisCpuBefore) * 1e6) / jobs,
    commandsPerRun: perRun(commands, jobs),
  };
}

/** Calls per run by command, two decimals. */
export function perRun(commands: Record<string, number>, runs: number): Record<string, number> {
  return Object.fromEntries(Object.entries(commands).map(([command, calls]) => [command, round(calls / runs, 2)]));
}

/**
 * Runs per second; this process's CPU time per run (user + system) over the same window; and redis-server's CPU
 * time per run from worker start to the last run (`INFO cpu`; includes the worker's start-up, a few commands).
 */
export interface DrainResult {
  rate: number;
  cpuUsPerRun: number;
  redisCpuUsPerRun: number;
  /** Redis commands per run by name, from `INFO commandstats` (commands run inside scripts included). */
  commandsPerRun: Record<string, number>;
}

/** redis-server's own CPU time so far (user + system), in seconds. */
export async function redisCpuSeconds(redis: ReturnType<typeof redisClient>): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** Count, p50, p99 and max of `samples` (ms). */
export function summary(samples: number[]) {
  return { n: samples.length, p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), max: Math.max(...samples) };
}

/** The printed table: one line per row. */
export function printTable(rows: BenchRow[]): string {
  const cells = rows.map((row) => [
    row.benchmark,
    row.figure,
    row.value,
    row.goal ?? '',
    row.met === undefined ? '' : row.met ? 'met' : 'MISSED',
  ]);
  const header = ['benchmark', 'figure', 'value', 'goal', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i]))
      .join(' | ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.map(line)].join('\n');
}

/**
 * Writes the results file: when and where it ran, the sizes, the table, and each benchmark's figures and details.
 * Its shape is what bench/README.md reads and what earlier rounds' results.json files hold.
 */
export function writeResults(
  out: string,
  run: {
    started: number;
    machine: Record<string, unknown>;
    sizes: BenchSizes;
    results: Record<string, BenchOutput>;
  },
): void {
  const { started, machine, sizes, results } = run;
  const report = {
    generatedAt: new Date().toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1_000),
    machine,
    sizes,
    note: 'Shared 2-core machine: compare the framework/raw ratios (measured side by side, alternating, median), not absolute rates.',
    table: Object.values(results).flatMap((result) => result.rows),
    results: Object.fromEntries(
      Object.entries(results).map(([name, result]) => [name, { figures: result.figures, ...result.details }]),
    ),
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
}

/** What `enqueueThenDrain` measured: the drain's rate, and its Node CPU and Redis commands per run. */
export interface PublicDrainResult {
  rate: number;
  cpuUsPerRun: number;
  redisCpuUsPerRun: number;
  /** Redis commands per run by name, first run entered to last (`INFO commandstats`, inside scripts included). */
  commandsPerRun: Record<string, number>;
  commandsTotalPerRun: number;
}

/**
 * The users' path for one job class: `runs` runs enqueued with `BackgroundJobs.enqueue` on a producer-only app
 * (`ENQUEUE_IN_FLIGHT_PUBLIC` calls in flight, nothing consuming), then drained by an app with the module's worker at
 * `concurrency`. `body` is the job's `execute`, called after the run was counted as entered. Every figure spans the
 * first run entered to the last, so neither app's boot is measured.
 */
export async function enqueueThenDrain(
  ctx: BenchContext,
  label: string,
  job: { options: PipelineJobOptions; body?: (jobCtx: JobContext<any>) => unknown; data?: (i: number) => unknown },
  runs: number,
  concurrency: number,
): Promise<PublicDrainResult> {
  const prefix = benchPrefix(label);
  const stats = redisClient(ctx.url);
  const clock = new RunClock(runs);
  let first: Promise<[Map<string, number>, number]> | undefined;
  let last: Promise<[Map<string, number>, number]> | undefined;
  const snapshot = () => Promise.all([commandStats(stats), redisCpuSeconds(stats)]);
  const Job = defineJob(`${label}Job`, job.options, (jobCtx) => {
    // NOTE: the snapshots are sent as the first and the last run are entered, not awaited by the run.
    if (clock.count === 0) first = snapshot();
    clock.enter();
    if (clock.done) last = snapshot();
    return job.body?.(jobCtx);
  });
  let worker: { close: () => Promise<void> } | undefined;
  try {
    const producer = await startApp({ redis: ctx.url, prefix, jobs: [Job], worker: false });
    try {
      const jobs = producer.get(BackgroundJobs);
      const data = job.data ?? ((i: number) => ({ n: i }));
      await pool(runs, ENQUEUE_IN_FLIGHT_PUBLIC, (i) => jobs.enqueue(Job, data(i) as never));
    } finally {
      await producer.close();
    }
    worker = await startApp({ redis: ctx.url, prefix, jobs: [Job], worker: { concurrency } });
    await waitFor(`${runs} ${label} runs`, () => clock.done && last !== undefined, DRAIN_TIMEOUT_MS, 5);
    const [commandsBefore, cpuBefore] = await (first as Promise<[Map<string, number>, number]>);
    const [commandsAfter, cpuAfter] = await (last as Promise<[Map<string, number>, number]>);
    const { total, byCommand } = commandDelta(commandsBefore, commandsAfter);
    // NOTE: `commandDelta` leaves out one INFO; the two snapshots sent two (commandstats and cpu) after `before`.
    const counted = runs - 1;
    return {
      rate: clock.rate(),
      cpuUsPerRun: clock.cpuUsPerRun(),
      redisCpuUsPerRun: ((cpuAfter - cpuBefore) * 1e6) / counted,
      commandsPerRun: perRun(byCommand, counted),
      commandsTotalPerRun: round((total - (byCommand.info ?? 0)) / counted, 2),
    };
  } finally {
    await worker?.close();
    await deleteKeysUnder(stats, prefix);
    stats.disconnect();
  }
}

/** Enqueue calls in flight while `enqueueThenDrain` fills a queue (a producer fanning out). */
export const ENQUEUE_IN_FLIGHT_PUBLIC = 500;
