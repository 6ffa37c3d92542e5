/** Lock round trip: acquire + release of the library's Redis lock, beside a Redis `PING` on the same client settings. */
import { BullmqConnections } from '../libs/background-jobs/src/adapters/bullmq';
import { RedisLock } from '../libs/background-jobs/src/adapters/redis-lock';
import { BenchContext, BenchOutput } from './drivers';
import { benchPrefix, quantile } from './support';

export async function lockRoundTrip(ctx: BenchContext): Promise<BenchOutput> {
  const iterations = ctx.sizes.lockIterations;
  const ping = await measurePingRoundTrip(ctx.url, iterations);
  const lock = await measureLockRoundTrip(ctx.url, iterations);
  ctx.log(
    `lock round trip: p50 ${lock.p50.toFixed(3)} p99 ${lock.p99.toFixed(3)} ms; PING p50 ${ping.p50.toFixed(3)} ms`,
  );
  return {
    figures: { p50: lock.p50, p99: lock.p99, 'ping.p50': ping.p50, 'ping.p99': ping.p99 },
    rows: [
      {
        benchmark: 'lock round trip',
        figure: `acquire + release p50 / p99 (${iterations}×)`,
        value: `${lock.p50.toFixed(2)} / ${lock.p99.toFixed(2)} ms`,
      },
      {
        benchmark: 'lock round trip',
        figure: 'Redis PING p50 / p99, same client settings',
        value: `${ping.p50.toFixed(2)} / ${ping.p99.toFixed(2)} ms`,
      },
    ],
    details: { lock, ping },
  };
}

export interface RoundTrip {
  p50: number;
  p99: number;
  iterations: number;
}

/** Acquire + release round trip of the library's Redis lock (`RedisLock`) over `iterations`, in ms. */
export async function measureLockRoundTrip(url: string, iterations = 1_000): Promise<RoundTrip> {
  const prefix = benchPrefix('lock');
  const client = new BullmqConnections({ url }).createClient('lock');
  const lock = new RedisLock(client, { prefix });
  const samples: number[] = [];
  try {
    for (let i = 0; i < iterations; i++) {
      const started = performance.now();
      const lease = await lock.acquire('roundtrip', { ttlMs: 10_000 });
      if (!lease) throw new Error('lock-roundtrip: the bench key was held by someone else');
      await lease.release();
      samples.push(performance.now() - started);
    }
    await client.del(lock.fenceKey('roundtrip'), lock.lockKey('roundtrip'));
  } finally {
    await lock.close();
  }
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), iterations };
}

/** One Redis `PING` over a client built like the lock's: the floor under any round trip. */
export async function measurePingRoundTrip(url: string, iterations = 1_000): Promise<RoundTrip> {
  const client = new BullmqConnections({ url }).createClient('lock');
  client.on('error', () => undefined);
  const samples: number[] = [];
  try {
    // NOTE: the lock's client may be lazy (it connects on the first acquire).
    if (client.status === 'wait') await client.connect();
    else if (client.status !== 'ready') await new Promise<void>((resolve) => client.once('ready', () => resolve()));
    for (let i = 0; i < iterations; i++) {
      const started = performance.now();
      await client.ping();
      samples.push(performance.now() - started);
    }
  } finally {
    client.disconnect();
  }
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), iterations };
}
