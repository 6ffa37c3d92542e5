/** Fairness: quiet tenants behind a flood, the cost of a fair job, Redis memory per tenant. */
import { BackgroundJobs } from 'nestjs-background-jobs';
import { BenchContext, BenchOutput, DRAIN_TIMEOUT_MS, pool, Side, sideBySide, summary } from './drivers';
import {
  benchPrefix,
  DEFAULT_QUEUE,
  defineJob,
  deletePrefix,
  median,
  quantile,
  redisClient,
  round,
  sleep,
  startApp,
  waitFor,
} from './support';

const FAIR_JOB_ID = 'bench-fair';
/** Work per run in the start-delay pass: long enough that the flood takes seconds to drain at concurrency 10. */
const FAIR_BODY_MS = 5;

/**
 * Start delay (run start - enqueue) of the quiet tenants' runs, enqueued after `flood` runs of one tenant (0: the
 * no-flood baseline). Concurrency 10, 5 ms per run.
 */
async function quietStartDelays(ctx: BenchContext, fair: boolean, flood: number): Promise<number[]> {
  const { fairQuietTenants, fairQuietRuns } = ctx.sizes;
  const prefix = benchPrefix(`fair${fair ? 'f' : 'p'}${flood}`);
  const enqueuedAt = new Map<string, number>();
  const delays: number[] = [];
  let quietDone = 0;
  const Job = defineJob(
    'BenchFairJob',
    { id: FAIR_JOB_ID, ...(fair ? { fairness: 'tenant' as const } : {}) },
    async (ctx) => {
      if (ctx.tenantId !== 'flood') {
        const at = enqueuedAt.get(ctx.executionId);
        if (at !== undefined) delays.push(Date.now() - at);
      }
      await sleep(FAIR_BODY_MS);
      if (ctx.tenantId !== 'flood') quietDone += 1;
    },
  );
  const app = await startApp({ redis: ctx.url, prefix, jobs: [Job], worker: { concurrency: 10 } });
  try {
    const jobs = app.get(BackgroundJobs);
    await pool(flood, 50, () => jobs.enqueue(Job, undefined, { tenantId: 'flood' }));
    const quiet = Array.from({ length: fairQuietTenants * fairQuietRuns }, (_, i) => `quiet-${i % fairQuietTenants}`);
    await pool(quiet.length, 50, async (i) => {
      const at = Date.now();
      const id = await jobs.enqueue(Job, undefined, { tenantId: quiet[i] });
      enqueuedAt.set(id, at);
    });
    await waitFor('the quiet runs', () => quietDone >= quiet.length, DRAIN_TIMEOUT_MS, 5);
  } finally {
    await app.close();
    await deletePrefix(prefix, ctx.url);
  }
  return delays;
}

/**
 * `jobs` no-op runs over 100 tenants: enqueued through the facade by a producer-only app (50 in flight; runs/s), then
 * drained by a worker app of concurrency 10 (runs/s between the first and the last body entered, boot not measured).
 */
async function fairThroughputOnce(
  ctx: BenchContext,
  fair: boolean,
  jobs: number,
): Promise<{ enqueue: number; drain: number }> {
  const prefix = benchPrefix(`fairtp${fair ? 'f' : 'p'}`);
  let count = 0;
  let first = 0;
  let last = 0;
  const Job = defineJob(
    'BenchFairNoopJob',
    { id: FAIR_JOB_ID, ...(fair ? { fairness: 'tenant' as const } : {}) },
    () => {
      last = performance.now();
      if (count === 0) first = last;
      count += 1;
    },
  );
  const producer = await startApp({ redis: ctx.url, prefix, jobs: [Job], worker: false });
  try {
    const facade = producer.get(BackgroundJobs);
    const started = performance.now();
    await pool(jobs, 50, (i) => facade.enqueue(Job, undefined, { tenantId: `t${i % 100}` }));
    const enqueue = (jobs * 1_000) / (performance.now() - started);
    const worker = await startApp({ redis: ctx.url, prefix, jobs: [Job], worker: { concurrency: 10 } });
    try {
      await waitFor(`${jobs} runs`, () => count >= jobs, DRAIN_TIMEOUT_MS, 1);
    } finally {
      await worker.close();
    }
    return { enqueue, drain: ((jobs - 1) * 1_000) / (last - first) };
  } finally {
    await producer.close();
    await deletePrefix(prefix, ctx.url);
  }
}

/** Bytes of the fairness keys with `tenants` tenants each holding one queued run, and what is left once they ran. */
async function fairMemory(
  ctx: BenchContext,
  tenants: number,
): Promise<{ perTenant: number; afterDrain: number; keysAfterDrain: number }> {
  const prefix = benchPrefix('fairmem');
  const redis = redisClient(ctx.url);
  let count = 0;
  const Job = defineJob(
    'BenchFairMemJob',
    { id: FAIR_JOB_ID, fairness: { by: 'tenant', concurrencyPerTenant: 1 } },
    () => {
      count += 1;
    },
  );
  const producer = await startApp({ redis: ctx.url, prefix, jobs: [Job], worker: false });
  try {
    const jobs = producer.get(BackgroundJobs);
    await pool(tenants, 50, (i) => jobs.enqueue(Job, undefined, { tenantId: `tenant-${String(i).padStart(6, '0')}` }));
    const rounds = `${prefix}:bgj:fair:${DEFAULT_QUEUE}:rounds`;
    const perTenant = Number(await redis.memory('USAGE', rounds, 'SAMPLES', '0')) / tenants;
    const worker = await startApp({ redis: ctx.url, prefix, jobs: [Job], worker: { concurrency: 10 } });
    try {
      await waitFor(`${tenants} runs`, () => count >= tenants, DRAIN_TIMEOUT_MS, 5);
    } finally {
      await worker.close();
    }
    // NOTE: the next enqueue finds nothing pending and drops every tenant's field; that run itself is the one left.
    await jobs.enqueue(Job, undefined, { tenantId: 'tenant-next' });
    const keys = await redis.keys(`${prefix}:bgj:fair:*`);
    let afterDrain = 0;
    for (const key of keys) afterDrain += Number(await redis.memory('USAGE', key, 'SAMPLES', '0'));
    return { perTenant, afterDrain, keysAfterDrain: keys.length };
  } finally {
    await producer.close();
    await deletePrefix(prefix, ctx.url);
    redis.disconnect();
  }
}

export async function fairness(ctx: BenchContext): Promise<BenchOutput> {
  const { fairFlood, fairQuietTenants, fairQuietRuns, throughputJobs, reps } = ctx.sizes;
  // NOTE: a discarded pass first: the first app of the process pays JIT and connection set-up, not fairness.
  await quietStartDelays(ctx, true, 0);
  const baseline = await quietStartDelays(ctx, true, 0);
  const fairFlooded = await quietStartDelays(ctx, true, fairFlood);
  const plainFlooded = await quietStartDelays(ctx, false, fairFlood);
  const p99 = (samples: number[]) => quantile(samples, 0.99);
  ctx.log(
    `fairness p99 quiet start delay: baseline ${p99(baseline)} ms, fair+flood ${p99(fairFlooded)} ms, plain+flood ${p99(plainFlooded)} ms`,
  );
  const enqueueRates: Record<Side, number[]> = { framework: [], raw: [], nestjs: [] };
  const tp = await sideBySide(reps, async (side) => {
    const rates = await fairThroughputOnce(ctx, side === 'framework', throughputJobs);
    enqueueRates[side].push(rates.enqueue);
    return rates.drain;
  });
  const enqueueRatio = median(enqueueRates.framework) / median(enqueueRates.raw);
  ctx.log(
    `fairness drain fair/plain: ${tp.ratio.runs.join('/')}; enqueue ${enqueueRates.framework.map(Math.round).join('/')} vs ${enqueueRates.raw.map(Math.round).join('/')} runs/s`,
  );
  const memory = await fairMemory(ctx, ctx.sizes.fairIdleTenants);
  const delayRatio = p99(fairFlooded) / Math.max(1, p99(baseline));
  const quiet = `${fairQuietTenants} quiet tenants × ${fairQuietRuns} runs`;
  return {
    figures: {
      quietP99BaselineMs: p99(baseline),
      quietP99FairFloodMs: p99(fairFlooded),
      quietP99PlainFloodMs: p99(plainFlooded),
      quietP99Ratio: delayRatio,
      throughputRatio: tp.ratio.median,
      enqueueRatio,
      bytesPerQueuedTenant: memory.perTenant,
      bytesAfterDrain: memory.afterDrain,
    },
    rows: [
      { benchmark: 'fairness', figure: `p99 start delay of ${quiet}, no flood (ms)`, value: `${p99(baseline)}` },
      {
        benchmark: 'fairness',
        figure: `… behind a ${fairFlood}-run flood, fair job (ms; × baseline)`,
        value: `${p99(fairFlooded)} (${delayRatio.toFixed(2)}×)`,
        goal: '≤ 2× baseline',
        met: delayRatio <= 2,
      },
      { benchmark: 'fairness', figure: `… behind the same flood, plain job (ms)`, value: `${p99(plainFlooded)}` },
      {
        benchmark: 'fairness',
        figure: `drain ${throughputJobs} no-op runs (100 tenants, c=10): fair / plain`,
        value: `${round(tp.ratio.median, 3)} (${Math.round(tp.framework.median)} vs ${Math.round(tp.raw.median)} runs/s)`,
        goal: '≥ 0.9',
        met: tp.ratio.median >= 0.9,
      },
      {
        benchmark: 'fairness',
        figure: `enqueue them (50 in flight): fair / plain`,
        value: `${round(enqueueRatio, 3)} (${Math.round(median(enqueueRates.framework))} vs ${Math.round(median(enqueueRates.raw))} runs/s)`,
      },
      {
        benchmark: 'fairness',
        figure: `Redis bytes per tenant with a run queued (rounds hash, ${ctx.sizes.fairIdleTenants} tenants)`,
        value: `${round(memory.perTenant, 1)}`,
      },
      {
        benchmark: 'fairness',
        figure: 'Redis bytes of fairness keys per idle tenant once drained (all tenants)',
        value: `${memory.afterDrain} in ${memory.keysAfterDrain} key(s) total`,
      },
    ],
    details: {
      baseline: summary(baseline),
      fairFlooded: summary(fairFlooded),
      plainFlooded: summary(plainFlooded),
      drain: tp,
      enqueue: enqueueRates,
      memory,
    },
  };
}
