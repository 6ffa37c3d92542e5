/** 5. Boot with N recurring job definitions, cold (empty Redis) and warm (unchanged restart). */
import { Type } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BenchContext, BenchOutput } from './drivers';
import {
  benchPrefix,
  commandDelta,
  commandStats,
  defineJob,
  deleteKeysUnder,
  deletePrefix,
  median,
  redisClient,
  round,
  startApp,
  waitFor,
} from './support';

/** Redis write commands: a scheduler key touched by one of these was (re)written. */
const WRITE_COMMANDS = new Set([
  'hset',
  'hmset',
  'hsetnx',
  'hdel',
  'hincrby',
  'set',
  'del',
  'unlink',
  'zadd',
  'zrem',
  'expire',
  'pexpire',
  'rename',
  'incr',
  'lpush',
  'rpush',
  'lrem',
  'xadd',
]);

interface BootSample {
  ms: number;
  commands: number;
  byCommand: Record<string, number>;
}

async function bootOnce(ctx: BenchContext, prefix: string, jobs: Type[]): Promise<BootSample> {
  const redis = redisClient(ctx.url);
  try {
    const before = await commandStats(redis);
    const started = performance.now();
    const app = await startApp({ redis: ctx.url, prefix, jobs, worker: { concurrency: 10 } });
    const ms = performance.now() - started;
    const after = await commandStats(redis);
    await app.close();
    const { total, byCommand } = commandDelta(before, after);
    return { ms, commands: total, byCommand };
  } finally {
    redis.disconnect();
  }
}

/** One cold + warm boot under MONITOR: commands sent by clients vs run inside scripts, and scheduler-key writes. */
async function bootUnderMonitor(ctx: BenchContext, jobs: Type[]) {
  const prefix = benchPrefix('bootmon');
  const monitorClient = redisClient(ctx.url);
  const monitor = await monitorClient.monitor();
  const admin = redisClient(ctx.url);
  const counts = { client: 0, lua: 0, schedulerWrites: 0 };
  // NOTE: MONITOR reports commands in the order Redis runs them, so once it shows the ECHO of `marker` (sent after
  // the boot), every command of the boot has been seen. The marker itself is not counted.
  let marker = '';
  let flushed = false;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (String(args[0]).toLowerCase() === 'echo' && args[1] === marker) {
      flushed = true;
      return;
    }
    const key = args[1] ?? '';
    if (!key.startsWith(`${prefix}:`) && !args.some((arg) => typeof arg === 'string' && arg.startsWith(`${prefix}:`)))
      return;
    if (/lua/i.test(source)) counts.lua += 1;
    else counts.client += 1;
    if (WRITE_COMMANDS.has(String(args[0]).toLowerCase()) && key.startsWith(`${prefix}:`) && key.includes(':repeat'))
      counts.schedulerWrites += 1;
  });
  const phase = async () => {
    Object.assign(counts, { client: 0, lua: 0, schedulerWrites: 0 });
    const app = await startApp({ redis: ctx.url, prefix, jobs, worker: { concurrency: 10 } });
    // NOTE: MONITOR lines arrive asynchronously: read the counts once the stream has caught up with a marker.
    marker = `bench-monitor-${randomUUID()}`;
    flushed = false;
    await admin.echo(marker);
    await waitFor('MONITOR caught up', () => flushed, 5_000, 5);
    const snapshot = { ...counts };
    await app.close();
    return snapshot;
  };
  try {
    const cold = await phase();
    const warm = await phase();
    return { cold, warm };
  } finally {
    monitor.disconnect();
    monitorClient.disconnect();
    await deleteKeysUnder(admin, prefix);
    admin.disconnect();
  }
}

export async function boot(ctx: BenchContext): Promise<BenchOutput> {
  const n = ctx.sizes.bootJobs;
  const jobs = Array.from({ length: n }, (_, i) =>
    defineJob(`BootJob${i}`, { id: `boot-job-${i}`, cron: `${i % 60} ${Math.floor(i / 60) % 24} * * *` }),
  );
  const cold: BootSample[] = [];
  const warm: BootSample[] = [];
  for (let rep = 0; rep < ctx.sizes.reps; rep++) {
    const prefix = benchPrefix('boot');
    cold.push(await bootOnce(ctx, prefix, jobs));
    warm.push(await bootOnce(ctx, prefix, jobs));
    await deletePrefix(prefix, ctx.url);
  }
  const monitored = await bootUnderMonitor(ctx, jobs);
  const pick = (samples: BootSample[]) => {
    const ms = median(samples.map((s) => s.ms));
    const chosen = samples.find((s) => s.ms === ms) as BootSample;
    return {
      ms: round(ms, 1),
      runsMs: samples.map((s) => round(s.ms, 1)),
      commands: chosen.commands,
      byCommand: chosen.byCommand,
    };
  };
  const details = {
    definitions: n,
    cold: { ...pick(cold), monitor: monitored.cold },
    warm: { ...pick(warm), monitor: monitored.warm },
  };
  ctx.log(
    `boot: cold ${details.cold.runsMs.join('/')} ms, warm ${details.warm.runsMs.join('/')} ms; warm scheduler writes ${monitored.warm.schedulerWrites}`,
  );
  return {
    figures: {
      'cold.ms': details.cold.ms,
      'cold.commands': details.cold.commands,
      'warm.ms': details.warm.ms,
      'warm.commands': details.warm.commands,
      'cold.schedulerWrites': monitored.cold.schedulerWrites,
      'warm.schedulerWrites': monitored.warm.schedulerWrites,
    },
    rows: [
      {
        benchmark: '5. boot',
        figure: `cold, ${n} definitions: time; commands sent + run in scripts; scheduler writes`,
        value: `${Math.round(details.cold.ms)} ms; ${monitored.cold.client} + ${monitored.cold.lua}; ${monitored.cold.schedulerWrites} writes`,
        goal: '≤ 2 s',
        met: details.cold.ms <= 2_000,
      },
      {
        benchmark: '5. boot',
        figure: `warm, unchanged: time; commands sent + run in scripts; scheduler writes`,
        value: `${Math.round(details.warm.ms)} ms; ${monitored.warm.client} + ${monitored.warm.lua}; ${monitored.warm.schedulerWrites} writes`,
        goal: '≤ 2 s, 0 writes',
        met: details.warm.ms <= 2_000 && monitored.warm.schedulerWrites === 0,
      },
    ],
    details,
  };
}
