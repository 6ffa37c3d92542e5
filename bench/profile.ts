/**
 * Profiling aid for bench/README.md: runs one side of one measurement on its own, so `node --cpu-prof` sees only
 * that side. Usage:
 *   node --cpu-prof --cpu-prof-dir=bench/profiles -r ts-node/register/transpile-only -r tsconfig-paths/register \
 *     bench/profile.ts <throughput|throughput-lock|enqueue|pipeline> <framework|raw|transport> [concurrency|inFlight] [count]
 * `pipeline` needs no Redis: it calls the PipelineRunner of an embedded-transport app directly, `count` times with
 * `concurrency` in flight, and prints this process's CPU time per run (the pipeline's own cost).
 * `promises-enqueue <framework|raw>` likewise per `enqueue` / `Queue.add` with a UUID `jobId`.
 * `rate-limited|rate-plain [concurrency] [count]` enqueues through `BackgroundJobs.enqueue` and drains a job with a rate
 * limit far above its throughput (1,000,000 per s) or the same job without one: the two sides of `rate-limit`'s headroom.
 * `promises|promises-lock <framework|raw|transport|nestjs> [concurrency] [count]` counts the promises made per run (an async hook),
 * a figure that does not move with the machine's load: two drains, `count` and 2 × `count` runs, and the difference
 * of their counts divided by `count`, so start-up and shutdown cancel out.
 */
import { createHook } from 'node:async_hooks';
import { JobRegistry, LazyAbortController, PipelineRunner, RunRequest } from '../libs/background-jobs/src/core';
import { TestRedisServer } from '../test/support/redis-server';
import { BenchContext, drain, enqueueThenDrain, FULL_SIZES } from './drivers';
import { enqueueRate } from './enqueue.bench';
import { defineJob, startApp } from './support';

async function pipelineOnly(concurrency: number, count: number): Promise<void> {
  const Job = defineJob('PipelineJob', { id: 'bench-pipeline' });
  const app = await startApp({ redis: 'local', jobs: [Job], worker: false });
  try {
    const runner = app.get(PipelineRunner);
    const definition = app.get(JobRegistry).get('bench-pipeline');
    if (!definition) throw new Error('bench-pipeline is not registered');
    const once = () => {
      const request: RunRequest = {
        executionId: 'bench',
        attempt: 1,
        tenantId: null,
        data: undefined,
        controller: new LazyAbortController(),
        reportProgress: async () => undefined,
        log: async () => undefined,
      };
      return runner.run(definition, request);
    };
    for (let round = 0; round < 4; round++) {
      const started = process.cpuUsage();
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next++ < count) await once();
        }),
      );
      const cpu = process.cpuUsage(started);
      console.log(`pipeline round ${round + 1}: ${((cpu.user + cpu.system) / count).toFixed(2)} µs CPU per run`);
    }
  } finally {
    await app.close();
  }
}

/**
 * Promises made per call of `measure(n)` (which makes `n` runs or enqueues): one unhooked warm-up, then `count` and
 * 2 × `count` under an async hook; start-up and shutdown cancel out in the difference. Needs its own Redis.
 */
async function promisesPer(
  count: number,
  measure: (ctx: BenchContext, n: number) => Promise<unknown>,
): Promise<number> {
  const server = await TestRedisServer.create();
  const ctx: BenchContext = { url: server.url, sizes: FULL_SIZES, log: (line: string) => console.log(line) };
  let promises = 0;
  const hook = createHook({
    init: (_id, type) => {
      if (type === 'PROMISE') promises++;
    },
  });
  try {
    await measure(ctx, count);
    const counts: number[] = [];
    for (const n of [count, 2 * count]) {
      promises = 0;
      hook.enable();
      await measure(ctx, n);
      hook.disable();
      counts.push(promises);
    }
    return (counts[1] - counts[0]) / count;
  } finally {
    await server.destroy();
  }
}

async function promisesPerRun(
  side: 'framework' | 'raw' | 'transport' | 'nestjs',
  concurrency: number,
  count: number,
  lock: boolean,
): Promise<void> {
  let commands: Record<string, number> = {};
  const perRun = await promisesPer(count, async (ctx, n) => {
    commands = (await drain(ctx, side, concurrency, n, lock)).commandsPerRun;
  });
  console.log(
    `promises ${side} ${concurrency}${lock ? ' lock' : ''}: ${perRun.toFixed(2)} per run; Redis commands per run ${JSON.stringify(commands)}`,
  );
}

async function promisesPerEnqueue(side: 'framework' | 'raw', inFlight: number, count: number): Promise<void> {
  const perCall = await promisesPer(count, (ctx, n) => enqueueRate(ctx, side, n, inFlight, true));
  console.log(
    `promises per enqueue, ${side === 'raw' ? 'Queue.add with a UUID jobId' : 'enqueue'}, ${inFlight} in flight: ${perCall.toFixed(2)}`,
  );
}

/** One side of `rate-limit`'s headroom, three rounds: `concurrency` wide, `count` runs each. */
async function rateSide(what: 'rate-limited' | 'rate-plain', concurrency: number, count: number): Promise<void> {
  const server = await TestRedisServer.create();
  const ctx = { url: server.url, sizes: FULL_SIZES, log: (line: string) => console.log(line) };
  try {
    const limited = what === 'rate-limited';
    const options = { id: 'bench-rate', ...(limited ? { rateLimit: { max: 1_000_000, durationMs: 1_000 } } : {}) };
    for (let round = 0; round < 3; round++) {
      const { rate, cpuUsPerRun } = await enqueueThenDrain(ctx, what, { options }, count, concurrency);
      console.log(`${what} ${concurrency}: ${Math.round(rate)} per s, ${cpuUsPerRun.toFixed(1)} µs CPU per run`);
    }
  } finally {
    await server.destroy();
  }
}

async function main(): Promise<void> {
  const [what = 'throughput', side = 'framework', width = '50', count = '20000'] = process.argv.slice(2);
  if (what === 'pipeline') return pipelineOnly(Number(width), Number(count));
  if (what === 'rate-limited' || what === 'rate-plain') return rateSide(what, Number(side), Number(width));
  if (side !== 'framework' && side !== 'raw' && side !== 'transport' && side !== 'nestjs')
    throw new Error('side: framework, raw, transport or nestjs');
  if (what === 'promises' || what === 'promises-lock')
    return promisesPerRun(side, Number(width), Number(count), what === 'promises-lock');
  if (what === 'promises-enqueue') {
    if (side !== 'framework' && side !== 'raw') throw new Error('promises-enqueue: framework or raw');
    return promisesPerEnqueue(side, Number(width), Number(count));
  }
  const server = await TestRedisServer.create();
  const ctx = { url: server.url, sizes: FULL_SIZES, log: (line: string) => console.log(line) };
  try {
    if (what === 'enqueue') {
      if (side !== 'framework' && side !== 'raw') throw new Error('enqueue: framework or raw');
      console.log(
        `${what} ${side} ${width}: ${Math.round(await enqueueRate(ctx, side, Number(count), Number(width)))} per s`,
      );
    } else {
      const { rate, cpuUsPerRun } = await drain(ctx, side, Number(width), Number(count), what === 'throughput-lock');
      console.log(`${what} ${side} ${width}: ${Math.round(rate)} per s, ${cpuUsPerRun.toFixed(1)} µs CPU per run`);
    }
  } finally {
    await server.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
