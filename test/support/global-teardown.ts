import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestRedisServer } from './redis-server';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __TEST_REDIS__?: TestRedisServer }).__TEST_REDIS__;
  await server?.stop();
  if (server) rmSync(join(process.cwd(), '.redis-test', String(server.port)), { recursive: true, force: true });
}
