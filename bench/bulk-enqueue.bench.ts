/**
 * Bulk enqueue through the public API, against `Queue.addBulk`. The contract has no `enqueueMany`; a caller with N
 * runs in hand has two public paths, both measured here on a producer-only app (`worker: false`), N runs per pass:
 * - `jobs.batch(runs)` without callbacks: one batch record (one Redis write), then one `addBulk` per job class of the
 *   runs, ids `<batchId>.<i>`. Its children are batch children: each one's end is counted in the batch's hash (one
 *   script call per child on the drain, not measured here).
 * - `BackgroundJobs.enqueue` N times, 500 calls in flight: coalesced by the commands client's auto-pipelining (one
 *   socket write per event-loop turn), each call its own script call and its own result.
 * Raw: `Queue.addBulk` of N jobs with the framework's attempts and retention, with BullMQ's counter ids and with
 * caller-chosen ids (`jobId`, BullMQ's `EXISTS` per job: the id semantics both public paths have). Sides rotate every
 * pass; each figure is the median over passes of the per-pass ratio to plain `addBulk`.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { BackgroundJobs } from 'nestjs-background-jobs';
import { BenchContext, BenchOutput, ENQUEUE_IN_FLIGHT_PUBLIC, NOOP_JOB_ID, pool } from './drivers';
import {
  benchPrefix,
  commandDelta,
  commandStats,
  DEFAULT_QUEUE,
  defineJob,
  deletePrefix,
  FRAMEWORK_DEFAULT_JOB_OPTIONS,
  median,
  redisClient,
  round,
  startApp,
} from './support';

const SIDES = ['batch', 'enqueue', 'addBulk', 'addBulkIds'] as const;
type BulkSide = (typeof SIDES)[number];

/** Runs per second of one side's bulk call(s) for `n` runs, and Redis commands per run (INFO left out). */
async function bulkOnce(
  ctx: BenchContext,
  side: BulkSide,
  n: number,
): Promise<{ rate: number; commands: number; cpuUs: number }> {
  const prefix = benchPrefix(`bulk-${side}`);
  const stats = redisClient(ctx.url);
  let call: () => Promise<unknown>;
  let stop: () => Promise<unknown>;
  if (side === 'batch' || side === 'enqueue') {
    const Job = defineJob('BulkJob', { id: NOOP_JOB_ID });
    const app = await startApp({ redis: ctx.url, prefix, jobs: [Job], worker: false });
    const jobs = app.get(BackgroundJobs);
    call =
      side === 'batch'
        ? () => jobs.batch(Array.from({ length: n }, (_, i) => ({ job: Job, data: { n: i } })))
        : () => pool(n, ENQUEUE_IN_FLIGHT_PUBLIC, (i) => jobs.enqueue(Job, { n: i }));
    stop = () => app.close();
  } else {
    const queue = new Queue(DEFAULT_QUEUE, { connection: { url: ctx.url }, prefix });
    await queue.waitUntilReady();
    const ids = side === 'addBulkIds';
    call = () =>
      queue.addBulk(
        Array.from({ length: n }, (_, i) => ({
          name: NOOP_JOB_ID,
          data: { n: i },
          opts: ids ? { ...FRAMEWORK_DEFAULT_JOB_OPTIONS, jobId: randomUUID() } : FRAMEWORK_DEFAULT_JOB_OPTIONS,
        })),
      );
    stop = () => queue.close();
  }
  try {
    const before = await commandStats(stats);
    const cpu = process.cpuUsage();
    const started = performance.now();
    await call();
    const rate = (n * 1_000) / (performance.now() - started);
    const used = process.cpuUsage(cpu);
    const { byCommand } = commandDelta(before, await commandStats(stats));
    delete byCommand.info;
    const commands = Object.values(byCommand).reduce((sum, calls) => sum + calls, 0) / n;
    return { rate, commands, cpuUs: (used.user + used.system) / n };
  } finally {
    await stop();
    await deletePrefix(prefix, ctx.url);
    stats.disconnect();
  }
}

export async function bulkEnqueue(ctx: BenchContext): Promise<BenchOutput> {
  const n = ctx.sizes.bulkRuns;
  // NOTE: one unmeasured pass per side first (connections, scripts loaded, JIT).
  for (const side of SIDES) await bulkOnce(ctx, side, n);
  const rates = new Map<BulkSide, number[]>(SIDES.map((side) => [side, []]));
  const commands = new Map<BulkSide, number[]>(SIDES.map((side) => [side, []]));
  const cpu = new Map<BulkSide, number[]>(SIDES.map((side) => [side, []]));
  const ratios = new Map<BulkSide, number[]>(SIDES.map((side) => [side, []]));
  for (let rep = 0; rep < ctx.sizes.reps; rep++) {
    const shift = rep % SIDES.length;
    const order = [...SIDES.slice(shift), ...SIDES.slice(0, shift)];
    if (rep % 2 === 1) order.reverse();
    const pass = new Map<BulkSide, number>();
    for (const side of order) {
      const measured = await bulkOnce(ctx, side, n);
      pass.set(side, measured.rate);
      rates.get(side)?.push(measured.rate);
      commands.get(side)?.push(measured.commands);
      cpu.get(side)?.push(measured.cpuUs);
    }
    for (const side of SIDES) ratios.get(side)?.push((pass.get(side) as number) / (pass.get('addBulk') as number));
  }
  const of = (side: BulkSide) => ({
    rate: round(median(rates.get(side) ?? []), 0),
    ratio: round(median(ratios.get(side) ?? []), 3),
    ratios: (ratios.get(side) ?? []).map((r) => round(r, 3)),
    commandsPerRun: round(median(commands.get(side) ?? []), 2),
    nodeCpuUsPerRun: round(median(cpu.get(side) ?? []), 1),
  });
  const figures = Object.fromEntries(SIDES.map((side) => [side, of(side)]));
  ctx.log(
    `bulk-enqueue ${n} runs: ${SIDES.map((side) => `${side} ${figures[side].rate}/s (${figures[side].ratios.join('/')})`).join(', ')}`,
  );
  const label = 'bulk enqueue';
  const row = (side: BulkSide, what: string, goal?: string) => ({
    benchmark: label,
    figure: `${n} runs: ${what} / Queue.addBulk, runs/s (node CPU µs, Redis commands per run)`,
    value:
      `${figures[side].rate} / ${figures.addBulk.rate} = ${figures[side].ratio.toFixed(2)}×` +
      ` (${Math.round(figures[side].nodeCpuUsPerRun)} / ${Math.round(figures.addBulk.nodeCpuUsPerRun)} µs,` +
      ` ${figures[side].commandsPerRun} / ${figures.addBulk.commandsPerRun})`,
    ...(goal ? { goal, met: figures[side].ratio >= 1 } : {}),
  });
  return {
    figures: {
      'batch.ratio': figures.batch.ratio,
      'enqueue.ratio': figures.enqueue.ratio,
      'addBulkIds.ratio': figures.addBulkIds.ratio,
      'addBulk.rate': figures.addBulk.rate,
    },
    rows: [
      row('batch', 'jobs.batch without callbacks (one call)', '≥ 1.0×'),
      row('enqueue', `enqueue × ${n}, ${ENQUEUE_IN_FLIGHT_PUBLIC} in flight (coalesced)`),
      row('addBulkIds', 'Queue.addBulk with a jobId per job'),
    ],
    details: { runs: n, enqueueInFlight: ENQUEUE_IN_FLIGHT_PUBLIC, ...figures },
  };
}
