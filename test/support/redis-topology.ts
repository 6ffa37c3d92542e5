import IORedis, { Cluster } from 'ioredis';
import type { BullmqConnection } from 'nestjs-background-jobs';
import { deleteKeysUnder, deletePrefix, testRedisUrl } from './redis';
import { TestRedisCluster } from './redis-cluster';
import { TestRedisSentinel } from './redis-sentinel';

/** Where a BullMQ suite runs: the suite's standalone Redis, a 3+3 Redis Cluster, or a Sentinel set. */
export type RedisTopologyKind = 'standalone' | 'cluster' | 'sentinel';

/** A Redis topology a suite runs on: the connection to give the module, key clean-up, and its own teardown. */
export interface RedisTopology {
  kind: RedisTopologyKind;
  connection: BullmqConnection;
  cluster?: TestRedisCluster;
  sentinel?: TestRedisSentinel;
  /** A client of the topology for assertions (a Cluster on the cluster); the caller disconnects it. */
  client(): IORedis | Cluster;
  /** Deletes every key under `prefix`, on every master. */
  deletePrefix(prefix: string): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * Whether the suites that repeat each case per topology (contract, flow control) run their `kind` cases: all by
 * default; `TEST_TOPOLOGIES=standalone` (CI leg 2, which checks NestJS 12 and Node 24 rather than topologies; its
 * production-redis, batches and continuations suites still run on the cluster and Sentinel) keeps one Redis server.
 */
export function topologyCovered(kind: RedisTopologyKind): boolean {
  const only = process.env.TEST_TOPOLOGIES;
  return !only || kind === 'standalone' || only.split(',').includes(kind);
}

/** Where the global setup leaves the connection of the cluster and the Sentinel set it started for the run. */
export const SHARED_TOPOLOGY_ENV = { cluster: 'TEST_SHARED_CLUSTER', sentinel: 'TEST_SHARED_SENTINEL' } as const;

/**
 * The run's shared cluster or Sentinel set (started by the global setup), for suites that break no server; a suite
 * run on its own, outside a run that started them, gets a topology of its own. `destroy()` stops only the latter.
 */
export async function sharedTopology(kind: RedisTopologyKind): Promise<RedisTopology> {
  const shared = kind === 'standalone' ? undefined : process.env[SHARED_TOPOLOGY_ENV[kind]];
  if (!shared) return startTopology(kind);
  return topologyOver(kind, JSON.parse(shared) as BullmqConnection, async () => undefined);
}

/** Starts (cluster, Sentinel) or reuses (standalone) the topology; call in beforeAll with a 60 s timeout. */
export async function startTopology(kind: RedisTopologyKind): Promise<RedisTopology> {
  if (kind === 'cluster') {
    const cluster = await TestRedisCluster.create();
    return { ...topologyOver(kind, { cluster: { nodes: cluster.seeds } }, () => cluster.destroy()), cluster };
  }
  if (kind === 'sentinel') {
    const sentinel = await TestRedisSentinel.create();
    const connection = { sentinels: sentinel.sentinels, name: sentinel.name };
    return { ...topologyOver(kind, connection, () => sentinel.destroy()), sentinel };
  }
  return topologyOver(kind, { url: testRedisUrl() }, async () => undefined);
}

/** The client and key clean-up of a topology, made from the connection the module is given. */
function topologyOver(
  kind: RedisTopologyKind,
  connection: BullmqConnection,
  destroy: () => Promise<void>,
): RedisTopology {
  if (kind === 'cluster') {
    const { nodes } = (connection as { cluster: { nodes: Array<{ host: string; port: number }> } }).cluster;
    const client = () => new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    return {
      kind,
      connection,
      client,
      deletePrefix: async (prefix) => {
        // NOTE: SCAN runs per node; a prefix's keys spread over the masters (one hash tag per queue).
        const cluster = client();
        try {
          await cluster.ping();
          for (const node of cluster.nodes('master')) await deleteKeysUnder(node, prefix).catch(() => undefined);
        } finally {
          cluster.disconnect();
        }
      },
      destroy,
    };
  }
  if (kind === 'sentinel') {
    const { sentinels, name } = connection as { sentinels: Array<{ host: string; port: number }>; name: string };
    const client = () => {
      const redis = new IORedis({ sentinels, name, maxRetriesPerRequest: 1 });
      redis.on('error', () => undefined);
      return redis;
    };
    return {
      kind,
      connection,
      client,
      deletePrefix: async (prefix) => {
        const redis = client();
        try {
          await deleteKeysUnder(redis, prefix);
        } finally {
          redis.disconnect();
        }
      },
      destroy,
    };
  }
  const { url } = connection as { url: string };
  return {
    kind,
    connection,
    client: () => new IORedis(url, { maxRetriesPerRequest: 1 }),
    deletePrefix: (prefix) => deletePrefix(prefix, url),
    destroy,
  };
}
