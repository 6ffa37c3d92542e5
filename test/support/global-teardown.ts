import type { TestRedisServer } from './redis-server';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __TEST_REDIS__?: TestRedisServer }).__TEST_REDIS__?.destroy();
}
