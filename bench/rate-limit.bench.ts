/**
 * Rate limits (`@PipelineJob({ rateLimit })`), on the users' path: runs enqueued with `BackgroundJobs.enqueue`, run by
 * the module's worker.
 * - Precision and use: a backlog of runs well above `max`; the admission log's start times (Redis time, read while it
 *   fills) give the most starts in any window (never over `max`) and the achieved rate / the limit (goal ≥ 0.95).
 * - Headroom: a job whose limit is far above its throughput against the same job without one (goal ≥ 0.9×).
 * - Parked: Redis CPU and commands per second while 10,000 runs wait on a limit (a window full for an hour, or one
 *   concurrency slot held), against the same app with nothing waiting: parked, never polled.
 * - Memory per key: `MEMORY USAGE` of the rate logs of N keys holding one start each, and of one key holding `max`.
 */
import { Queue } from 'bullmq';
import { BackgroundJobs, PipelineJobOptions } from 'nestjs-background-jobs';
import { BullmqKeys } from '../libs/background-jobs/src/adapters/bullmq/bullmq-keys';
import { checkId } from '../libs/background-jobs/src/core/admission/limit-spec';
import {
  BenchContext,
  BenchOutput,
  ENQUEUE_IN_FLIGHT_PUBLIC,
  enqueueThenDrain,
  pool,
  redisCpuSeconds,
  sideBySide,
} from './drivers';
import {
  benchPrefix,
  commandDelta,
  commandStats,
  DEFAULT_QUEUE,
  defineJob,
  deleteKeysUnder,
  median,
  redisClient,
  round,
  sleep,
  startApp,
  waitFor,
} from './support';

const RATE_JOB_ID = 'bench-rate';
/** Worker concurrency of every app here: more slots than the limit lets start at once. */
const CONCURRENCY = 10;
/** "Far above its throughput": no drain here comes near a million starts a second. */
const FAR_ABOVE = { max: 1_000_000, durationMs: 1_000 };
const HOUR_MS = 3_600_000;

/** The admission log (sorted set of start times) of a job's own rate limit for `key` ('' for the key 'job'). */
const rateLogKey = (prefix: string, jobId: string, key = ''): string =>
  `${new BullmqKeys(prefix).admission}:s:${checkId('j', jobId, key)}`;

/** The most values of sorted `starts` in any half-open window [t, t + windowMs). */
export function mostInAnyWindow(starts: number[], windowMs: number): number {
  let most = 0;
  let j = 0;
  for (let i = 0; i < starts.length; i++) {
    while (j < starts.length && starts[j] < starts[i] + windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

/**
 * Achieved rate / the limit: the first `max` starts may go at once, so the rate is that of the rest, from the first
 * start to the last: ((n − max) / (last − first)) / (max / windowMs).
 */
export function useOfLimit(starts: number[], max: number, windowMs: number): number {
  const n = starts.length;
  if (n <= max) return Number.NaN;
  return (n - max) / (starts[n - 1] - starts[0]) / (max / windowMs);
}

async function precision(ctx: BenchContext) {
  const { rateLimitMax: max, rateLimitWindowMs: windowMs, rateLimitBacklog: backlog } = ctx.sizes;
  const prefix = benchPrefix('rate');
  const stats = redisClient(ctx.url);
  const entered: number[] = [];
  const Job = defineJob('RateJob', { id: RATE_JOB_ID, rateLimit: { max, durationMs: windowMs } }, () => {
    entered.push(Date.now());
  });
  const logKey = rateLogKey(prefix, RATE_JOB_ID);
  const seen = new Map<string, number>();
  let fullKeyBytes = 0;
  let polling = true;
  // NOTE: every start stays in the log at least `windowMs` (trimmed only once older), so reading it every quarter
  // window sees every start; `logComplete` says whether it did.
  const read = async () => {
    const [entries, bytes] = await Promise.all([
      stats.zrange(logKey, 0, -1, 'WITHSCORES'),
      stats.memory('USAGE', logKey) as Promise<number | null>,
    ]);
    for (let i = 0; i < entries.length; i += 2) seen.set(entries[i], Number(entries[i + 1]));
    if (entries.length / 2 >= max) fullKeyBytes = Math.max(fullKeyBytes, bytes ?? 0);
  };
  const poll = (async () => {
    while (polling) {
      await read();
      await sleep(windowMs / 4);
    }
  })();
  const app = await startApp({ redis: ctx.url, prefix, jobs: [Job], worker: { concurrency: CONCURRENCY } });
  try {
    const jobs = app.get(BackgroundJobs);
    await pool(backlog, ENQUEUE_IN_FLIGHT_PUBLIC, (i) => jobs.enqueue(Job, { n: i }));
    const expectedMs = Math.ceil(backlog / max) * windowMs;
    await waitFor(`${backlog} rate-limited runs`, () => entered.length >= backlog, 3 * expectedMs + 60_000, 20);
  } finally {
    polling = false;
    await poll;
    // NOTE: the last window's starts, read before the log expires (`windowMs` after the last start).
    await read();
    await app.close();
    await deleteKeysUnder(stats, prefix);
    stats.disconnect();
  }
  const logStarts = [...seen.values()].sort((a, b) => a - b);
  const nodeStarts = [...entered].sort((a, b) => a - b);
  const logComplete = logStarts.length === backlog;
  // NOTE: a log read too late (a stalled process) misses starts: then the figures come from `execute` entered, and
  // the row says so; that clock includes the wake and fetch jitter of each run.
  const starts = logComplete ? logStarts : nodeStarts;
  return {
    max,
    windowMs,
    backlog,
    logComplete,
    startsSeenInLog: logStarts.length,
    mostInAnyWindow: mostInAnyWindow(starts, windowMs),
    use: useOfLimit(starts, max, windowMs),
    // NOTE: the same from `execute` entered on this process's clock: includes the wake and fetch jitter.
    useAtExecute: useOfLimit(nodeStarts, max, windowMs),
    mostInAnyWindowAtExecute: mostInAnyWindow(nodeStarts, windowMs),
    spanMs: starts[starts.length - 1] - starts[0],
    fullKeyBytes,
  };
}

async function headroom(ctx: BenchContext) {
  const runs = ctx.sizes.rateLimitDrainRuns;
  const options = (limited: boolean): PipelineJobOptions => ({
    id: RATE_JOB_ID,
    ...(limited ? { rateLimit: FAR_ABOVE } : {}),
  });
  const drainOf = (limited: boolean) =>
    enqueueThenDrain(ctx, limited ? 'rateHigh' : 'rateNone', { options: options(limited) }, runs, CONCURRENCY);
  // NOTE: one unmeasured round per side first, at this size.
  await drainOf(true);
  await drainOf(false);
  const costs: Record<'limited' | 'plain', Awaited<ReturnType<typeof drainOf>>[]> = { limited: [], plain: [] };
  const result = await sideBySide(ctx.sizes.reps, async (side) => {
    const limited = side === 'framework';
    const measured = await drainOf(limited);
    costs[limited ? 'limited' : 'plain'].push(measured);
    return measured.rate;
  });
  const cost = (samples: Awaited<ReturnType<typeof drainOf>>[]) => ({
    nodeCpuUs: round(median(samples.map((s) => s.cpuUsPerRun)), 1),
    redisCpuUs: round(median(samples.map((s) => s.redisCpuUsPerRun)), 1),
    commands: round(median(samples.map((s) => s.commandsTotalPerRun)), 2),
    lastCommandsPerRun: samples[samples.length - 1].commandsPerRun,
  });
  return {
    runs,
    concurrency: CONCURRENCY,
    limit: FAR_ABOVE,
    ...result,
    limited: cost(costs.limited),
    plain: cost(costs.plain),
  };
}

/** Redis CPU (ms per second) and commands per second over `windowMs`, leaving out the bench's own INFO calls. */
async function redisLoad(stats: ReturnType<typeof redisClient>, windowMs: number) {
  const [commandsBefore, cpuBefore] = [await commandStats(stats), await redisCpuSeconds(stats)];
  const started = performance.now();
  await sleep(windowMs);
  const [commandsAfter, cpuAfter] = [await commandStats(stats), await redisCpuSeconds(stats)];
  const seconds = (performance.now() - started) / 1_000;
  const { byCommand } = commandDelta(commandsBefore, commandsAfter);
  delete byCommand.info;
  const commands = Object.values(byCommand).reduce((sum, calls) => sum + calls, 0);
  return {
    cpuMsPerSecond: round(((cpuAfter - cpuBefore) * 1_000) / seconds, 2),
    commandsPerSecond: round(commands / seconds, 1),
    byCommand,
  };
}

/**
 * `runs` runs of one job wait on a limit: a rate limit of 1 an hour (one run starts, the rest wait for their window,
 * parked as delayed jobs), or a concurrency of 1 whose slot a first run holds (the rest parked on the key). The same
 * app is measured idle first, then with the runs parked.
 */
async function parked(ctx: BenchContext, kind: 'rate' | 'concurrency') {
  const { rateLimitParked: runs, rateLimitIdleMs: windowMs } = ctx.sizes;
  const prefix = benchPrefix(`park${kind[0]}`);
  const stats = redisClient(ctx.url);
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let started = 0;
  const Job = defineJob(
    'ParkedJob',
    {
      id: RATE_JOB_ID,
      ...(kind === 'rate' ? { rateLimit: { max: 1, durationMs: HOUR_MS } } : { concurrency: { max: 1 } }),
    },
    () => {
      started += 1;
      return kind === 'concurrency' ? held : undefined;
    },
  );
  const app = await startApp({ redis: ctx.url, prefix, jobs: [Job], worker: { concurrency: CONCURRENCY } });
  const queue = new Queue(DEFAULT_QUEUE, { connection: { url: ctx.url }, prefix });
  // NOTE: settle after boot and after parking (the last refusals' writes); a second at full size.
  const settleMs = Math.min(1_000, windowMs);
  try {
    await sleep(settleMs);
    const idle = await redisLoad(stats, windowMs);
    const jobs = app.get(BackgroundJobs);
    const parkStarted = performance.now();
    await pool(runs, ENQUEUE_IN_FLIGHT_PUBLIC, (i) => jobs.enqueue(Job, { n: i }));
    await waitFor(
      `${runs - 1} runs parked`,
      async () => (await queue.getJobCounts('delayed')).delayed >= runs - 1,
      DRAIN_PARK_TIMEOUT_MS,
      50,
    );
    const parkMs = performance.now() - parkStarted;
    // NOTE: from here nothing may start until the window opens or the slot frees.
    await sleep(settleMs);
    const waiting = await redisLoad(stats, windowMs);
    return { runs, windowMs, started, parkMs: Math.round(parkMs), idle, waiting };
  } finally {
    release();
    await app.close();
    await queue.close();
    await deleteKeysUnder(stats, prefix);
    stats.disconnect();
  }
}

const DRAIN_PARK_TIMEOUT_MS = 180_000;

/** N keys of one job's rate limit (a key function of the payload), each holding one start: bytes per key. */
async function memoryPerKey(ctx: BenchContext) {
  const keys = ctx.sizes.rateLimitKeys;
  const prefix = benchPrefix('ratekeys');
  const stats = redisClient(ctx.url);
  let entered = 0;
  const Job = defineJob(
    'KeyedRateJob',
    { id: RATE_JOB_ID, rateLimit: { max: 10, durationMs: HOUR_MS, key: ({ data }) => (data as { k: string }).k } },
    () => {
      entered += 1;
    },
  );
  const app = await startApp({ redis: ctx.url, prefix, jobs: [Job], worker: { concurrency: 50 } });
  try {
    const jobs = app.get(BackgroundJobs);
    await pool(keys, ENQUEUE_IN_FLIGHT_PUBLIC, (i) => jobs.enqueue(Job, { k: `key-${i}` }));
    await waitFor(`${keys} keyed runs`, () => entered >= keys, DRAIN_PARK_TIMEOUT_MS, 20);
    const names = Array.from({ length: keys }, (_, i) => rateLogKey(prefix, RATE_JOB_ID, `key-${i}`));
    const pipeline = stats.pipeline();
    for (const name of names) pipeline.memory('USAGE', name);
    const replies = (await pipeline.exec()) ?? [];
    const bytes = replies.map(([, value]) => Number(value ?? 0));
    const present = bytes.filter((b) => b > 0).length;
    return {
      keys,
      keysPresent: present,
      bytesPerKey: round(bytes.reduce((sum, b) => sum + b, 0) / Math.max(1, present), 1),
    };
  } finally {
    await app.close();
    await deleteKeysUnder(stats, prefix);
    stats.disconnect();
  }
}

export async function rateLimit(ctx: BenchContext): Promise<BenchOutput> {
  const label = 'rate limit';
  const p = await precision(ctx);
  ctx.log(
    `rate-limit precision: ${p.backlog} runs at ${p.max}/${p.windowMs} ms: most in any window ${p.mostInAnyWindow}, use ${p.use.toFixed(3)} (at execute ${p.useAtExecute.toFixed(3)}), log complete ${String(p.logComplete)}`,
  );
  const h = await headroom(ctx);
  ctx.log(
    `rate-limit headroom: limited ${h.framework.runs.join('/')} plain ${h.raw.runs.join('/')} ratio ${h.ratio.runs.join('/')}`,
  );
  const rate = await parked(ctx, 'rate');
  const slot = await parked(ctx, 'concurrency');
  for (const w of [rate, slot])
    ctx.log(
      `rate-limit parked: idle ${w.idle.cpuMsPerSecond} ms CPU/s ${w.idle.commandsPerSecond} cmd/s; ${w.runs} waiting ${w.waiting.cpuMsPerSecond} ms CPU/s ${w.waiting.commandsPerSecond} cmd/s`,
    );
  const memory = await memoryPerKey(ctx);
  // NOTE: "near idle": within 5 ms of Redis CPU per second (0.5 % of a core) of the same app with nothing waiting.
  const nearIdle = (w: typeof rate) => w.waiting.cpuMsPerSecond <= w.idle.cpuMsPerSecond + 5;
  const parkedRow = (w: typeof rate, what: string) => ({
    benchmark: label,
    figure: `${w.runs} runs waiting on ${what}: Redis CPU ms/s and commands/s (same app, nothing waiting)`,
    value: `${w.waiting.cpuMsPerSecond} ms/s, ${w.waiting.commandsPerSecond}/s (${w.idle.cpuMsPerSecond} ms/s, ${w.idle.commandsPerSecond}/s)`,
    goal: '≤ idle + 5 ms/s',
    met: nearIdle(w),
  });
  return {
    figures: {
      'precision.use': p.use,
      'precision.mostInAnyWindow': p.mostInAnyWindow,
      'headroom.ratio': h.ratio.median,
      'parked.rate.cpuMsPerSecond': rate.waiting.cpuMsPerSecond,
      'parked.rate.idleCpuMsPerSecond': rate.idle.cpuMsPerSecond,
      'parked.concurrency.cpuMsPerSecond': slot.waiting.cpuMsPerSecond,
      'parked.concurrency.idleCpuMsPerSecond': slot.idle.cpuMsPerSecond,
      'memory.bytesPerKey': memory.bytesPerKey,
    },
    rows: [
      {
        benchmark: label,
        figure: `${p.backlog} runs, ${p.max} per ${p.windowMs} ms: achieved rate / limit (most starts in any window)`,
        value: `${p.use.toFixed(2)} (${p.mostInAnyWindow})${p.logComplete ? '' : ` at execute: the log saw ${p.startsSeenInLog}`}`,
        goal: `≥ 0.95, never > ${p.max}`,
        met: p.use >= 0.95 && p.mostInAnyWindow <= p.max,
      },
      {
        benchmark: label,
        figure: `limit far above throughput (${FAR_ABOVE.max}/s) vs no limit, c = ${CONCURRENCY}: runs/s (node CPU µs/run)`,
        value:
          `${Math.round(h.framework.median)} / ${Math.round(h.raw.median)} = ${h.ratio.median.toFixed(2)}×` +
          ` (${Math.round(h.limited.nodeCpuUs)} / ${Math.round(h.plain.nodeCpuUs)})`,
        goal: '≥ 0.9×',
        met: h.ratio.median >= 0.9,
      },
      parkedRow(rate, 'a rate limit (1 an hour)'),
      parkedRow(slot, 'a concurrency slot (max 1, held)'),
      {
        benchmark: label,
        figure: `memory per rate key: ${memory.keys} keys holding 1 start (1 key holding ${p.max})`,
        value: `${memory.bytesPerKey} B (${p.fullKeyBytes} B)`,
      },
    ],
    details: { precision: p, headroom: h, parked: { rate, concurrency: slot }, memory },
  };
}
