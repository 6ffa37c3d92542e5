import { TestRedisServer } from './redis-server';

/** Starts the suite's own redis-server on a free port; tests read its URL from TEST_REDIS_URL. */
export default async function globalSetup(): Promise<void> {
  const server = await TestRedisServer.create();
  process.env.TEST_REDIS_URL = server.url;
  process.env.TEST_REDIS_PORT = String(server.port);
  (globalThis as { __TEST_REDIS__?: TestRedisServer }).__TEST_REDIS__ = server;
}
