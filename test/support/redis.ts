import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';

/** The suite's own Redis (started by global-setup). */
export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url)
    throw new Error('TEST_REDIS_URL is not set: run the tests through jest (global-setup starts redis-server).');
  return url;
}

/** A fresh BullMQ prefix per test, so tests never see each other's keys. */
export function randomPrefix(label = 't'): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix` on the Redis at `url` (the suite's Redis unless told). */
export async function deletePrefix(prefix: string, url = testRedisUrl()): Promise<void> {
  const redis = new IORedis(url, { maxRetriesPerRequest: 1 });
  try {
    await deleteKeysUnder(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix` through `redis` (also `{prefix:…}`, the hash-tagged keys of a cluster). */
export async function deleteKeysUnder(redis: IORedis, prefix: string): Promise<void> {
  for (const pattern of [`${prefix}:*`, `{${prefix}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      // NOTE: one key per UNLINK: on a cluster node, keys of different slots cannot go in one command.
      await Promise.all(keys.map((key) => redis.unlink(key)));
    } while (cursor !== '0');
  }
}

/** Polls `probe` until it returns a truthy value or the deadline passes (then throws with `what`). */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T> | T,
  timeoutMs = 10_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
