import { Cluster } from 'ioredis';
import type { ConnectionOptions } from 'bullmq';
import type { RedisNodeAddress } from 'nestjs-background-jobs';

/** The Redis the sample app runs on: one server (REDIS_URL), a Redis Cluster, or a Sentinel-managed master. */
export type SampleRedis =
  { url: string } | { cluster: { nodes: RedisNodeAddress[] } } | { sentinels: RedisNodeAddress[]; name: string };

/** How a start-up line names the Redis: "BullMQ", "BullMQ on Redis Cluster", "BullMQ on Sentinel". */
export function describeRedis(redis: SampleRedis): string {
  if ('cluster' in redis) return 'BullMQ on Redis Cluster';
  if ('sentinels' in redis) return 'BullMQ on Sentinel';
  return 'BullMQ';
}

/**
 * The BullMQ prefix of `queue` as the library keys it (docs/operations.md#production-redis): on a cluster, a prefix
 * without a hash tag gets one per queue, `<prefix>:{<queue>}`; elsewhere the prefix as given. bull-board and the
 * legacy @nestjs/bullmq queue use it so that they see the keys the library writes.
 * NOTE: the rule is the library's (BullmqKeys.queuePrefix, internal); the sample restates it rather than import an
 * internal file, and test/sample-app/production-redis.e2e-spec.ts fails if the two ever differ.
 */
export function queuePrefix(redis: SampleRedis, prefix: string, queue: string): string {
  return 'cluster' in redis && !/\{[^}]+\}/.test(prefix) ? `${prefix}:{${queue}}` : prefix;
}

/**
 * A connection for raw BullMQ objects (bull-board's Queues, the legacy queue and processor): options on one server
 * or Sentinel; on a cluster a new ioredis Cluster (BullMQ takes a cluster only as an instance), which `close`
 * disconnects once the BullMQ objects on it are closed.
 */
export function bullmqConnection(redis: SampleRedis): { connection: ConnectionOptions; close(): Promise<void> } {
  if (!('cluster' in redis)) return { connection: { ...redis }, close: async () => undefined };
  // NOTE: maxRetriesPerRequest null: a BullMQ Worker refuses a shared client that gives up on a command.
  // NOTE: lazyConnect: it connects when BullMQ first uses it, so a module defined but never started leaves no socket.
  const cluster = new Cluster(redis.cluster.nodes, { lazyConnect: true, redisOptions: { maxRetriesPerRequest: null } });
  return {
    connection: cluster,
    close: async () => {
      if (cluster.status !== 'end') await cluster.quit().catch(() => cluster.disconnect());
    },
  };
}
