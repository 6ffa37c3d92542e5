import { randomBytes } from 'node:crypto';
import { createLockClient, RedisLock } from '../../libs/background-jobs/src/adapters/redis-lock';

/** Acquire + release round trip of the Redis lock over `iterations`, in ms. For the benchmark runner to reuse. */
export async function measureLockRoundTrip(url: string, iterations = 1_000): Promise<{ p50: number; p99: number; iterations: number }> {
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const client = createLockClient({ url });
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
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { p50: at(0.5), p99: at(0.99), iterations };
}
