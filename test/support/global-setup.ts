import { startTopology, RedisTopology, SHARED_TOPOLOGY_ENV } from './redis-topology';
import { TestRedisServer } from './redis-server';

/** Suites that run on the shared cluster and Sentinel set (they break no server): a run that names none skips both. */
const SHARED_TOPOLOGY_USERS = /contract|flow-control|batches-cluster|continuations-cluster/;

/**
 * Starts the suite's own redis-server on a free port (tests read its URL from TEST_REDIS_URL) and, for a run that
 * includes the suites above, one Redis Cluster and one Sentinel set they share (each case under its own prefix):
 * starting them once instead of once per file saves about 10 s a file.
 */
export default async function globalSetup(globalConfig: { testPathPatterns?: { patterns?: string[] } }): Promise<void> {
  const server = await TestRedisServer.create();
  process.env.TEST_REDIS_URL = server.url;
  process.env.TEST_REDIS_PORT = String(server.port);
  const state = globalThis as { __TEST_REDIS__?: TestRedisServer; __TEST_TOPOLOGIES__?: RedisTopology[] };
  state.__TEST_REDIS__ = server;
  state.__TEST_TOPOLOGIES__ = [];
  const patterns = globalConfig.testPathPatterns?.patterns ?? [];
  if (patterns.length > 0 && !patterns.some((pattern) => SHARED_TOPOLOGY_USERS.test(pattern))) return;
  for (const kind of ['cluster', 'sentinel'] as const) {
    const topology = await startTopology(kind);
    state.__TEST_TOPOLOGIES__.push(topology);
    process.env[SHARED_TOPOLOGY_ENV[kind]] = JSON.stringify(topology.connection);
  }
}
