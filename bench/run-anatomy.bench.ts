/**
 * What an enqueued run carries, one thing at a time: raw `Queue.add` runs, then the same with each thing
 * `BackgroundJobs.enqueue` adds (a UUID `jobId`, priority 1 — BullMQ's prioritized set instead of the wait list —,
 * the envelope), then runs made by `enqueue` itself. Every variant is enqueued 500 in flight and drained by the same
 * raw BullMQ `Worker` at c = 10, so the worker's side is constant and only what the runs carry differs; two more
 * variants drain plain-envelope runs and `enqueue`'s runs with the framework's worker instead. Per variant:
 * Redis commands per run in each phase (`INFO commandstats`, commands inside scripts included: a count that does not
 * move with the machine's load), keys left per queued run, bytes of one job hash, Node CPU µs per enqueue, and the
 * drain rate against plain `Queue.add` runs (alternating rounds, median of the per-round ratios).
 */
import { JobsOptions, Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { BackgroundJobs } from 'nestjs-background-jobs';
import { ENQUEUED_PRIORITY } from '../libs/background-jobs/src/adapters/bullmq/bullmq-queues';
import {
  BenchContext,
  BenchOutput,
  DRAIN_TIMEOUT_MS,
  NOOP_JOB_ID,
  perRun,
  pool,
  redisCpuSeconds,
  RunClock,
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
  waitFor,
} from './support';

const VARIANTS = [
  'raw',
  'uuid',
  'priority',
  'envelope',
  'uuid+priority+envelope',
  'enqueue',
  'raw, framework worker',
  'enqueue, framework worker',
] as const;
type Variant = (typeof VARIANTS)[number];

const IN_FLIGHT = 500;
const CONCURRENCY = 10;

interface AnatomyPass {
  rate: number;
  enqueueCpuUs: number;
  drainCpuUs: number;
  drainRedisCpuUs: number;
  enqueueCommands: Record<string, number>;
  drainCommands: Record<string, number>;
  keysPerRun: number;
  jobHashBytes: number;
}

/** `Queue.add` of one variant's run `i`: name, data and options. */
function rawRun(variant: Variant, i: number): { data: unknown; opts: JobsOptions } {
  const uuid = variant === 'uuid' || variant === 'uuid+priority+envelope';
  const priority = variant === 'priority' || variant === 'uuid+priority+envelope';
  const envelope = variant === 'envelope' || variant === 'uuid+priority+envelope';
  const opts: JobsOptions = { ...FRAMEWORK_DEFAULT_JOB_OPTIONS };
  if (uuid) opts.jobId = randomUUID();
  if (priority) opts.priority = ENQUEUED_PRIORITY;
  return { data: envelope ? { bgj: 1, tenantId: null, payload: { n: i } } : { n: i }, opts };
}

async function anatomyPass(ctx: BenchContext, variant: Variant, jobs: number): Promise<AnatomyPass> {
  const prefix = benchPrefix('anat');
  const connection = { url: ctx.url };
  const stats = redisClient(ctx.url);
  let add: (i: number) => Promise<unknown>;
  let closeProducer: () => Promise<unknown>;
  const framed = variant.endsWith(', framework worker');
  if (variant.startsWith('enqueue')) {
    const Job = defineJob('NoopJob', { id: NOOP_JOB_ID });
    const app = await startApp({ redis: ctx.url, prefix, jobs: [Job], worker: false });
    const facade = app.get(BackgroundJobs);
    add = (i) => facade.enqueue(Job, { n: i });
    closeProducer = () => app.close();
  } else {
    const queue = new Queue(DEFAULT_QUEUE, { connection, prefix });
    await queue.waitUntilReady();
    add = (i) => {
      const { data, opts } = framed
        ? { data: { bgj: 1, tenantId: null, payload: { n: i } }, opts: FRAMEWORK_DEFAULT_JOB_OPTIONS }
        : rawRun(variant, i);
      return queue.add(NOOP_JOB_ID, data, opts);
    };
    closeProducer = () => queue.close();
  }
  const clock = new RunClock(jobs);
  let stop: (() => Promise<unknown>) | undefined;
  try {
    const before = await commandStats(stats);
    const cpu = process.cpuUsage();
    await pool(jobs, IN_FLIGHT, add);
    const used = process.cpuUsage(cpu);
    const enqueueCommands = commandDelta(before, await commandStats(stats)).byCommand;
    await closeProducer();
    const keys = (await stats.keys(`${prefix}:*`)).filter((key) => !key.endsWith(':meta'));
    const jobKey = keys.find((key) => /:[^:]+:[0-9a-f-]+$/.test(key) && !/:(id|pc|events|marker)$/.test(key));
    const jobHashBytes = jobKey ? Number(await stats.memory('USAGE', jobKey, 'SAMPLES', '0')) : Number.NaN;
    const redisCpuBefore = await redisCpuSeconds(stats);
    const drainBefore = await commandStats(stats);
    stop = await startConsumer(ctx, framed ? 'framework' : 'raw', prefix, CONCURRENCY, clock.enter);
    await waitFor(`${jobs} ${variant} runs`, () => clock.done, DRAIN_TIMEOUT_MS, 5);
    const drainCommands = commandDelta(drainBefore, await commandStats(stats)).byCommand;
    const drainRedisCpuUs = (((await redisCpuSeconds(stats)) - redisCpuBefore) * 1e6) / jobs;
    return {
      rate: clock.rate(),
      enqueueCpuUs: (used.user + used.system) / jobs,
      drainCpuUs: clock.cpuUsPerRun(),
      drainRedisCpuUs,
      enqueueCommands: perRun(enqueueCommands, jobs),
      drainCommands: perRun(drainCommands, jobs),
      keysPerRun: round(keys.length / jobs, 2),
      jobHashBytes,
    };
  } finally {
    await stop?.();
    await deleteKeysUnder(stats, prefix);
    stats.disconnect();
  }
}

/** Commands per run, leaving out INFO (the bench's own reads, and each client's once per connection). */
const total = (commands: Record<string, number>): number =>
  round(
    Object.entries(commands).reduce((sum, [name, calls]) => (name === 'info' ? sum : sum + calls), 0),
    2,
  );

export async function runAnatomy(ctx: BenchContext): Promise<BenchOutput> {
  const jobs = ctx.sizes.throughputJobs;
  const passes = new Map<Variant, AnatomyPass[]>(VARIANTS.map((variant) => [variant, []]));
  const ratios = new Map<Variant, number[]>(VARIANTS.map((variant) => [variant, []]));
  for (const variant of VARIANTS) await anatomyPass(ctx, variant, jobs);
  for (let rep = 0; rep < ctx.sizes.reps; rep++) {
    // NOTE: the order rotates by one variant every round and reverses every other one, as the side-by-side pairs do.
    const shift = rep % VARIANTS.length;
    const rotated = [...VARIANTS.slice(shift), ...VARIANTS.slice(0, shift)];
    const measured: Partial<Record<Variant, AnatomyPass>> = {};
    for (const variant of rep % 2 === 0 ? rotated : rotated.reverse())
      measured[variant] = await anatomyPass(ctx, variant, jobs);
    for (const variant of VARIANTS) {
      passes.get(variant)?.push(measured[variant] as AnatomyPass);
      ratios.get(variant)?.push((measured[variant] as AnatomyPass).rate / (measured.raw as AnatomyPass).rate);
    }
  }
  const out: BenchOutput = { figures: {}, rows: [], details: { jobs, inFlight: IN_FLIGHT, concurrency: CONCURRENCY } };
  for (const variant of VARIANTS) {
    const samples = passes.get(variant) as AnatomyPass[];
    const last = samples[samples.length - 1];
    const ratio = median(ratios.get(variant) as number[]);
    const cpuUs = median(samples.map((s) => s.enqueueCpuUs));
    const drainCpuUs = median(samples.map((s) => s.drainCpuUs));
    const drainRedisCpuUs = median(samples.map((s) => s.drainRedisCpuUs));
    const commands = { enqueue: total(last.enqueueCommands), drain: total(last.drainCommands) };
    ctx.log(
      `run-anatomy ${variant}: drain × raw ${(ratios.get(variant) as number[]).map((r) => round(r, 3)).join('/')}; commands/run ${commands.enqueue} + ${commands.drain}; enqueue CPU µs ${round(cpuUs, 1)}; drain CPU µs node ${samples.map((s) => Math.round(s.drainCpuUs)).join('/')} redis ${samples.map((s) => Math.round(s.drainRedisCpuUs)).join('/')}`,
    );
    out.figures[`${variant}.drainRatio`] = ratio;
    out.figures[`${variant}.enqueueCommands`] = commands.enqueue;
    out.figures[`${variant}.drainCommands`] = commands.drain;
    out.figures[`${variant}.enqueueCpuUs`] = round(cpuUs, 1);
    out.figures[`${variant}.drainCpuUs`] = round(drainCpuUs, 1);
    out.figures[`${variant}.drainRedisCpuUs`] = round(drainRedisCpuUs, 1);
    out.details[variant] = {
      drainRatio: { median: ratio, runs: (ratios.get(variant) as number[]).map((r) => round(r, 3)) },
      drainRate: median(samples.map((s) => s.rate)),
      enqueueNodeCpuUsPerRun: round(cpuUs, 1),
      drainNodeCpuUsPerRun: round(drainCpuUs, 1),
      drainRedisCpuUsPerRun: round(drainRedisCpuUs, 1),
      enqueueCommandsPerRun: last.enqueueCommands,
      drainCommandsPerRun: last.drainCommands,
      keysPerQueuedRun: last.keysPerRun,
      jobHashBytes: last.jobHashBytes,
    };
    out.rows.push({
      benchmark: 'run anatomy (raw Worker, c = 10)',
      figure: `${variant}: drain × raw; Redis commands/run enqueue + drain; job hash; CPU µs enqueue, drain node + redis`,
      value:
        `${ratio.toFixed(2)}×; ${commands.enqueue} + ${commands.drain}; ${last.jobHashBytes} B;` +
        ` ${Math.round(cpuUs)}, ${Math.round(drainCpuUs)} + ${Math.round(drainRedisCpuUs)} µs`,
    });
  }
  return out;
}
