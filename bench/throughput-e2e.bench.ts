/**
 * 0. No-op throughput end to end, the headline: runs enqueued the way each side's user enqueues them, then drained.
 * Framework: `BackgroundJobs.enqueue` on a producer-only app, then the module's worker. Raw BullMQ: `Queue.add` with
 * the framework's attempts and retention, then a `Worker`. `@nestjs/bullmq`: `queue.add` on an `@InjectQueue`
 * producer (the same options as `defaultJobOptions`), then a `WorkerHost`. Every side enqueues `ENQUEUE_IN_FLIGHT`
 * calls at a time with no consumer running; the drain is timed from the first run entered to the last.
 */
import { Queue } from 'bullmq';
import { BackgroundJobs } from 'nestjs-background-jobs';
import {
  BenchContext,
  BenchOutput,
  DRAIN_TIMEOUT_MS,
  NOOP_JOB_ID,
  perRun,
  pool,
  redisCpuSeconds,
  RunClock,
  Side,
  sideBySide,
  startConsumer,
} from './drivers';
import {
  benchPrefix,
  commandDelta,
  commandStats,
  DEFAULT_QUEUE,
  defineJob,
  deleteKeysUnder,
  FRAMEWORK_DEFAULT_JOB_OPTIONS,
  median,
  redisClient,
  round,
  startApp,
  startNestBullmqProducer,
  waitFor,
} from './support';

/** Enqueue calls in flight while a side fills its queue (a producer fanning out, as a user's request handlers do). */
const ENQUEUE_IN_FLIGHT = 500;

/** One phase (enqueue or drain) per run: this process's CPU, redis-server's CPU, and Redis commands by name. */
interface PhaseCost {
  nodeCpuUs: number;
  redisCpuUs: number;
  commands: Record<string, number>;
}

export interface EndToEndResult {
  /** Runs per second drained, first run entered to last. */
  rate: number;
  /** Enqueue calls per second while filling. */
  enqueueRate: number;
  enqueue: PhaseCost;
  drain: PhaseCost;
}

/** The enqueue call of one side on a producer that consumes nothing, and how to close that producer. */
async function startProducer(
  ctx: BenchContext,
  side: Side,
  prefix: string,
): Promise<{ add: (i: number) => Promise<unknown>; close: () => Promise<unknown> }> {
  if (side === 'framework') {
    const NoopJob = defineJob('NoopJob', { id: NOOP_JOB_ID });
    const app = await startApp({ redis: ctx.url, prefix, jobs: [NoopJob], worker: false });
    const jobs = app.get(BackgroundJobs);
    return { add: (i) => jobs.enqueue(NoopJob, { n: i }), close: () => app.close() };
  }
  if (side === 'nestjs') {
    const producer = await startNestBullmqProducer(ctx.url, prefix, DEFAULT_QUEUE);
    return { add: (i) => producer.queue.add(NOOP_JOB_ID, { n: i }), close: producer.close };
  }
  const queue = new Queue(DEFAULT_QUEUE, { connection: { url: ctx.url }, prefix });
  await queue.waitUntilReady();
  return {
    add: (i) => queue.add(NOOP_JOB_ID, { n: i }, FRAMEWORK_DEFAULT_JOB_OPTIONS),
    close: () => queue.close(),
  };
}

/** Enqueues `jobs` runs through `side`'s producer, then drains them with its consumer at `concurrency`. */
export async function endToEnd(
  ctx: BenchContext,
  side: Side,
  concurrency: number,
  jobs: number,
): Promise<EndToEndResult> {
  const prefix = benchPrefix(`e2e${concurrency}`);
  const stats = redisClient(ctx.url);
  const clock = new RunClock(jobs);
  let stop: (() => Promise<unknown>) | undefined;
  try {
    const producer = await startProducer(ctx, side, prefix);
    let enqueueRate = 0;
    let enqueue: PhaseCost;
    try {
      const before = await phaseStart(stats);
      const started = performance.now();
      await pool(jobs, ENQUEUE_IN_FLIGHT, producer.add);
      enqueueRate = (jobs * 1_000) / (performance.now() - started);
      enqueue = await phaseEnd(stats, before, jobs);
    } finally {
      await producer.close();
    }
    const before = await phaseStart(stats);
    stop = await startConsumer(ctx, side, prefix, concurrency, clock.enter);
    await waitFor(`${jobs} ${side} runs`, () => clock.done, DRAIN_TIMEOUT_MS, 5);
    const drained = await phaseEnd(stats, before, jobs);
    return { rate: clock.rate(), enqueueRate, enqueue, drain: { ...drained, nodeCpuUs: clock.cpuUsPerRun() } };
  } finally {
    await stop?.();
    await deleteKeysUnder(stats, prefix);
    stats.disconnect();
  }
}

async function phaseStart(stats: ReturnType<typeof redisClient>) {
  return { cpu: process.cpuUsage(), redisCpu: await redisCpuSeconds(stats), commands: await commandStats(stats) };
}

async function phaseEnd(
  stats: ReturnType<typeof redisClient>,
  before: Awaited<ReturnType<typeof phaseStart>>,
  runs: number,
): Promise<PhaseCost> {
  const cpu = process.cpuUsage(before.cpu);
  const redisCpu = await redisCpuSeconds(stats);
  const { byCommand } = commandDelta(before.commands, await commandStats(stats));
  return {
    nodeCpuUs: (cpu.user + cpu.system) / runs,
    redisCpuUs: ((redisCpu - before.redisCpu) * 1e6) / runs,
    commands: perRun(byCommand, runs),
  };
}

/** Commands per run, leaving out INFO (the bench's own reads, and each client's once per connection). */
const totalOf = (commands: Record<string, number>): number =>
  round(
    Object.entries(commands).reduce((sum, [name, calls]) => (name === 'info' ? sum : sum + calls), 0),
    2,
  );

export async function throughputEndToEnd(ctx: BenchContext): Promise<BenchOutput> {
  const out: BenchOutput = { figures: {}, rows: [], details: {} };
  const sides: Side[] = ['framework', 'raw', 'nestjs'];
  for (const concurrency of ctx.sizes.concurrencies) {
    const jobs = ctx.sizes.throughputJobs;
    // NOTE: one unmeasured round per side first, at this size: the measured pairs see each side's steady state.
    for (const side of sides) await endToEnd(ctx, side, concurrency, jobs);
    const costs: Record<Side, EndToEndResult[]> = { framework: [], raw: [], nestjs: [] };
    const result = await sideBySide(
      ctx.sizes.reps,
      async (side) => {
        const measured = await endToEnd(ctx, side, concurrency, jobs);
        costs[side].push(measured);
        return measured.rate;
      },
      undefined,
      ['raw', 'nestjs'],
    );
    const cost = (side: Side) => {
      const samples = costs[side];
      const last = samples[samples.length - 1];
      return {
        enqueuePerSecond: round(median(samples.map((s) => s.enqueueRate)), 0),
        enqueueNodeCpuUs: round(median(samples.map((s) => s.enqueue.nodeCpuUs)), 1),
        enqueueRedisCpuUs: round(median(samples.map((s) => s.enqueue.redisCpuUs)), 1),
        drainNodeCpuUs: round(median(samples.map((s) => s.drain.nodeCpuUs)), 1),
        drainRedisCpuUs: round(median(samples.map((s) => s.drain.redisCpuUs)), 1),
        lastEnqueueCommandsPerRun: last.enqueue.commands,
        lastDrainCommandsPerRun: last.drain.commands,
      };
    };
    const fw = cost('framework');
    const raw = cost('raw');
    const nestjs = cost('nestjs');
    const ratioNestjs = result.ratioNestjs ?? { median: Number.NaN, runs: [] };
    ctx.log(
      `throughput-e2e c=${concurrency}: framework ${result.framework.runs.join('/')} raw ${result.raw.runs.join('/')} ratio ${result.ratio.runs.join('/')}; vs @nestjs/bullmq ${ratioNestjs.runs.join('/')}` +
        `; node CPU µs/run enqueue ${fw.enqueueNodeCpuUs}/${raw.enqueueNodeCpuUs} drain ${fw.drainNodeCpuUs}/${raw.drainNodeCpuUs}`,
    );
    out.details[`c${concurrency}`] = {
      jobs,
      enqueueInFlight: ENQUEUE_IN_FLIGHT,
      ...result,
      cost: { framework: fw, raw, nestjs },
    };
    out.figures[`c${concurrency}.framework`] = result.framework.median;
    out.figures[`c${concurrency}.raw`] = result.raw.median;
    out.figures[`c${concurrency}.ratio`] = result.ratio.median;
    out.figures[`c${concurrency}.ratioNestjs`] = ratioNestjs.median;
    out.figures[`c${concurrency}.commands.framework`] =
      totalOf(fw.lastEnqueueCommandsPerRun) + totalOf(fw.lastDrainCommandsPerRun);
    out.figures[`c${concurrency}.commands.raw`] =
      totalOf(raw.lastEnqueueCommandsPerRun) + totalOf(raw.lastDrainCommandsPerRun);
    const label = '0. throughput, end to end';
    out.rows.push({
      benchmark: label,
      figure: `concurrency ${concurrency}: enqueue → drain, framework / raw BullMQ runs/s`,
      value:
        `${Math.round(result.framework.median)} / ${Math.round(result.raw.median)} = ${result.ratio.median.toFixed(2)}×` +
        ` (node CPU µs/run enqueue ${Math.round(fw.enqueueNodeCpuUs)}/${Math.round(raw.enqueueNodeCpuUs)},` +
        ` drain ${Math.round(fw.drainNodeCpuUs)}/${Math.round(raw.drainNodeCpuUs)})`,
      goal: '≥ 0.95× raw',
      met: result.ratio.median >= 0.95,
    });
    out.rows.push({
      benchmark: label,
      figure: `concurrency ${concurrency}: framework / @nestjs/bullmq (InjectQueue + WorkerHost) runs/s`,
      value: `${Math.round(result.framework.median)} / ${Math.round(result.nestjs?.median ?? Number.NaN)} = ${ratioNestjs.median.toFixed(2)}×`,
      goal: '≥ 0.95×',
      met: ratioNestjs.median >= 0.95,
    });
    out.rows.push({
      benchmark: label,
      figure: `concurrency ${concurrency}: Redis commands per run (enqueue + drain), framework / raw`,
      value:
        `${totalOf(fw.lastEnqueueCommandsPerRun)} + ${totalOf(fw.lastDrainCommandsPerRun)} / ` +
        `${totalOf(raw.lastEnqueueCommandsPerRun)} + ${totalOf(raw.lastDrainCommandsPerRun)}`,
    });
  }
  return out;
}
