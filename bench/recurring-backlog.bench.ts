/** 10. Start lag of a one-second recurring job while enqueued runs drain on the same queue. */
import { INestApplicationContext } from '@nestjs/common';
import { Job, JobsOptions, Queue, Worker } from 'bullmq';
import { BackgroundJobs } from 'nestjs-background-jobs';
import { BenchContext, BenchOutput, DRAIN_TIMEOUT_MS, fill, pool, Side } from './drivers';
import {
  benchPrefix,
  DEFAULT_QUEUE,
  defineJob,
  deleteKeysUnder,
  quantile,
  redisClient,
  sleep,
  startApp,
  waitFor,
} from './support';

/** Each backlog run holds its worker slot this long: 10 slots drain 10,000 runs in about 5 s plus Redis time. */
const BACKLOG_HOLD_MS = 5;

async function backlogLagPass(ctx: BenchContext, side: Side): Promise<{ drainMs: number; lags: number[] }> {
  const prefix = benchPrefix(`backlog-${side}`);
  const connection = { url: ctx.url };
  const lags: Array<{ tick: number; lag: number }> = [];
  let done = 0;
  const admin = redisClient(ctx.url);
  let app: INestApplicationContext | undefined;
  let rawQueue: Queue | undefined;
  let rawWorker: Worker | undefined;
  try {
    let started = 0;
    if (side === 'framework') {
      const Tick = defineJob('BacklogTickJob', { id: 'bench-backlog-tick', cron: '* * * * * *' }, (job) => {
        lags.push({ tick: (job.scheduledAt as Date).getTime(), lag: Date.now() - (job.scheduledAt as Date).getTime() });
      });
      const Work = defineJob('BacklogWorkJob', { id: 'bench-backlog-work' }, async () => {
        await sleep(BACKLOG_HOLD_MS);
        done += 1;
      });
      app = await startApp({ redis: ctx.url, prefix, jobs: [Tick, Work], worker: { concurrency: 10 } });
      await waitFor('a first tick', () => lags.length >= 1, 5_000, 20);
      const jobs = app.get(BackgroundJobs);
      started = Date.now();
      await pool(ctx.sizes.backlogJobs, 50, () => jobs.enqueue(Work));
    } else {
      rawQueue = new Queue(DEFAULT_QUEUE, { connection, prefix });
      rawWorker = new Worker(
        DEFAULT_QUEUE,
        async (job: Job) => {
          if (job.name === 'tick') {
            const tick = (job.opts as JobsOptions & { prevMillis?: number }).prevMillis ?? job.timestamp;
            lags.push({ tick, lag: Date.now() - tick });
          } else {
            await sleep(BACKLOG_HOLD_MS);
            done += 1;
          }
        },
        { connection, prefix, concurrency: 10 },
      );
      await rawQueue.upsertJobScheduler('tick', { pattern: '* * * * * *' }, { name: 'tick', data: {} });
      await waitFor('a first tick', () => lags.length >= 1, 5_000, 20);
      started = Date.now();
      await fill(rawQueue, ctx.sizes.backlogJobs, () => ({ name: 'work', data: {} }));
    }
    const enqueued = Date.now();
    await waitFor('the backlog drained', () => done >= ctx.sizes.backlogJobs, DRAIN_TIMEOUT_MS, 20);
    const drained = Date.now();
    // NOTE: ticks due from the start of the enqueueing to the end of the drain (at least the first one due after the
    // start, which a short drain may outlast): their lag is what a recurring job suffers behind enqueued work.
    const first = await waitFor(
      'a tick after the enqueueing began',
      () => lags.find((l) => l.tick >= started),
      10_000,
      20,
    );
    const during = lags.filter((l) => l.tick >= started && (l.tick <= drained || l === first)).map((l) => l.lag);
    ctx.log(
      `recurring-backlog ${side}: ${ctx.sizes.backlogJobs} runs drained in ${drained - enqueued} ms (${drained - started} ms with enqueueing); ticks during the drain ${during.length}, lags ${JSON.stringify(during)}`,
    );
    return { drainMs: drained - enqueued, lags: during };
  } finally {
    await app?.close();
    await rawWorker?.close();
    await rawQueue?.close();
    await deleteKeysUnder(admin, prefix);
    admin.disconnect();
  }
}

export async function recurringBacklog(ctx: BenchContext): Promise<BenchOutput> {
  const framework = await backlogLagPass(ctx, 'framework');
  const raw = await backlogLagPass(ctx, 'raw');
  const stat = (lags: number[], q: number) => (lags.length ? quantile(lags, q) : NaN);
  const fwMax = framework.lags.length ? Math.max(...framework.lags) : NaN;
  const rawMax = raw.lags.length ? Math.max(...raw.lags) : NaN;
  return {
    figures: {
      'framework.ticks': framework.lags.length,
      'framework.p50': stat(framework.lags, 0.5),
      'framework.max': fwMax,
      'framework.drainMs': framework.drainMs,
      'raw.ticks': raw.lags.length,
      'raw.p50': stat(raw.lags, 0.5),
      'raw.max': rawMax,
      'raw.drainMs': raw.drainMs,
    },
    rows: [
      {
        benchmark: '10. recurring start lag under a backlog',
        figure: `framework: 1 s job while ${ctx.sizes.backlogJobs} enqueued runs are added and drain (${framework.drainMs} ms, concurrency 10): ticks, p50 / max lag`,
        value: `${framework.lags.length} ticks, ${stat(framework.lags, 0.5)} / ${fwMax} ms`,
        goal: 'max ≤ 1000 ms',
        met: fwMax <= 1_000,
      },
      {
        benchmark: '10. recurring start lag under a backlog',
        figure: `raw BullMQ (scheduler and jobs on one queue, no priority), ${raw.drainMs} ms drain: ticks, p50 / max lag`,
        value: `${raw.lags.length} ticks, ${stat(raw.lags, 0.5)} / ${rawMax} ms`,
      },
    ],
    details: { framework, raw, holdMs: BACKLOG_HOLD_MS },
  };
}
