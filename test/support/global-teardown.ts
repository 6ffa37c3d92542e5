import type { RedisTopology } from './redis-topology';
import type { TestRedisServer } from './redis-server';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis as { __TEST_REDIS__?: TestRedisServer; __TEST_TOPOLOGIES__?: RedisTopology[] };
  await Promise.all((state.__TEST_TOPOLOGIES__ ?? []).map((topology) => topology.destroy()));
  await state.__TEST_REDIS__?.destroy();
}
