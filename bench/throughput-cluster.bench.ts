/** 10. No-op throughput on a Redis Cluster (3 masters, 3 replicas, started here), the framework against raw BullMQ. */
import { Queue, Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import { TestRedisCluster } from '../test/support/redis-cluster';
import { BenchContext, BenchOutput, DRAIN_TIMEOUT_MS, fill, NOOP_JOB_ID, Side, sideBySide } from './drivers';
import { benchPrefix, DEFAULT_QUEUE, defineJob, FRAMEWORK_DEFAULT_JOB_OPTIONS, startApp, waitFor } from './support';

/** Drains `jobs` no-op runs on the cluster; runs per second between the first and the last run, as `drain`. */
async function clusterDrain(cluster: TestRedisCluster, side: Side, concurrency: number, jobs: number): Promise<number> {
  const prefix = benchPrefix(`cl${concurrency}`);
  // NOTE: the raw side uses the hash-tagged prefix BullMQ documents for a cluster; the framework, given a prefix
  // without braces, adds its own tag per queue (`<prefix>:{<queue>}`). Either way one queue is one slot.
  const bullPrefix = side === 'framework' ? `${prefix}:{${DEFAULT_QUEUE}}` : `{${prefix}}`;
  const client = (maxRetriesPerRequest: number | null) => {
    const c = new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest } });
    c.on('error', () => undefined);
    return c;
  };
  const filler = client(1);
  const queue = new Queue(DEFAULT_QUEUE, { connection: filler, prefix: bullPrefix });
  await fill(queue, jobs, () => ({
    name: NOOP_JOB_ID,
    data: { bgj: 1, tenantId: null },
    opts: FRAMEWORK_DEFAULT_JOB_OPTIONS,
  }));
  let count = 0;
  let first = 0;
  let last = 0;
  const body = () => {
    const now = performance.now();
    if (count === 0) first = now;
    last = now;
    count += 1;
  };
  let stop: () => Promise<unknown>;
  if (side === 'framework') {
    const NoopJob = defineJob('NoopJob', { id: NOOP_JOB_ID }, body);
    const app = await startApp({
      redis: '',
      connection: { cluster: { nodes: cluster.seeds } },
      prefix,
      jobs: [NoopJob],
      worker: { concurrency },
    });
    stop = () => app.close();
  } else {
    const connection = client(null);
    const worker = new Worker(DEFAULT_QUEUE, async () => body(), { connection, prefix: bullPrefix, concurrency });
    stop = async () => {
      await worker.close();
      connection.disconnect();
    };
  }
  try {
    await waitFor(`${jobs} ${side} runs on the cluster`, () => count >= jobs, DRAIN_TIMEOUT_MS, 5);
  } finally {
    await stop();
    await queue.close();
    filler.disconnect();
    await cluster.flushAll();
  }
  return ((jobs - 1) * 1_000) / (last - first);
}

export async function clusterThroughput(ctx: BenchContext): Promise<BenchOutput> {
  const out: BenchOutput = { figures: {}, rows: [], details: {} };
  const cluster = await TestRedisCluster.create();
  try {
    const concurrency = Math.max(...ctx.sizes.concurrencies);
    const jobs = ctx.sizes.throughputJobs;
    const warmup = Math.min(1_000, jobs);
    for (const side of ['framework', 'raw'] as const) await clusterDrain(cluster, side, 10, warmup);
    const result = await sideBySide(ctx.sizes.reps, (side) => clusterDrain(cluster, side, concurrency, jobs));
    ctx.log(
      `throughput-cluster c=${concurrency}: framework ${result.framework.runs.join('/')} raw ${result.raw.runs.join('/')} ratio ${result.ratio.runs.join('/')}`,
    );
    out.details[`c${concurrency}`] = { jobs, ...result };
    out.figures[`c${concurrency}.framework`] = result.framework.median;
    out.figures[`c${concurrency}.raw`] = result.raw.median;
    out.figures[`c${concurrency}.ratio`] = result.ratio.median;
    out.rows.push({
      benchmark: '10. throughput, Redis Cluster',
      figure: `concurrency ${concurrency}: framework / raw runs/s (3+3 cluster)`,
      value: `${Math.round(result.framework.median)} / ${Math.round(result.raw.median)} = ${result.ratio.median.toFixed(2)}×`,
      goal: '≥ 0.95× raw',
      met: result.ratio.median >= 0.95,
    });
  } finally {
    await cluster.destroy();
  }
  return out;
}
