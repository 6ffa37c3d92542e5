import IORedis, { Cluster } from 'ioredis';
import { RedisNodeHealth, TransportHealth } from '../../core';
import { BullmqConnections } from './bullmq-connections';
import { BullmqExecutionsReader } from './bullmq-executions.reader';

/**
 * Redis reachable (and its eviction policy), workers expected and running, and the queues' depths; on a Redis
 * Cluster every node, on Sentinel the master in use.
 */
export async function bullmqHealth(
  connections: BullmqConnections,
  executions: BullmqExecutionsReader,
  workers: { expected: number; running: number },
): Promise<TransportHealth> {
  const { expected: workersExpected, running: workersRunning } = workers;
  try {
    const redis = connections.commands();
    if (redis.isCluster) return await clusterHealth(redis as Cluster, executions, workers);
    await redis.ping();
    const info = await redis.info('memory');
    const health: TransportHealth = {
      store: 'redis',
      reachable: true,
      maxmemoryPolicy: maxmemoryPolicyOf(info),
      workersExpected,
      workersRunning,
      queues: await executions.queueDepths(),
    };
    // NOTE: the socket's peer is the master the sentinels named (ioredis reconnects there after a failover).
    const stream = (redis as IORedis).stream;
    if ((redis as IORedis).options.sentinels && stream?.remoteAddress)
      health.master = `${stream.remoteAddress}:${stream.remotePort}`;
    return health;
  } catch (error) {
    return {
      store: 'redis',
      reachable: false,
      error: (error as Error).message,
      workersExpected,
      workersRunning,
      queues: [],
    };
  }
}

/**
 * Every node of the cluster with its role and reachability as the cluster itself sees them (CLUSTER NODES: the
 * gossip of all nodes, replicas included, with no extra connection), plus the memory policy of each master this
 * client is connected to. Reachable when every master answered.
 */
async function clusterHealth(
  cluster: Cluster,
  executions: BullmqExecutionsReader,
  workers: { expected: number; running: number },
): Promise<TransportHealth> {
  const nodes: RedisNodeHealth[] = String(await cluster.call('CLUSTER', 'NODES'))
    .trim()
    .split('\n')
    .map((line) => {
      const [, address, flags, , , , , linkState] = line.split(' ');
      const flagSet = new Set(flags.split(','));
      const failed = ['fail', 'fail?', 'noaddr', 'handshake'].find((flag) => flagSet.has(flag));
      const linked = flagSet.has('myself') || linkState === 'connected';
      const node: RedisNodeHealth = {
        address: address.split('@')[0],
        role: flagSet.has('master') ? 'master' : 'replica',
        reachable: !failed && linked,
      };
      if (!node.reachable) node.error = failed ? `flagged ${failed} by the cluster` : 'cluster bus link disconnected';
      return node;
    })
    .sort((a, b) => a.address.localeCompare(b.address));
  const policies = await Promise.all(
    cluster.nodes('master').map(async (master) => {
      const address = `${master.options.host}:${master.options.port}`;
      try {
        return maxmemoryPolicyOf(await master.info('memory'));
      } catch (error) {
        const known = nodes.find((node) => node.address === address);
        if (known) Object.assign(known, { reachable: false, error: (error as Error).message });
        return undefined;
      }
    }),
  );
  const unreachableMasters = nodes.filter((node) => node.role === 'master' && !node.reachable);
  const known = policies.filter((policy): policy is string => !!policy);
  const health: TransportHealth = {
    store: 'redis',
    reachable: unreachableMasters.length === 0,
    maxmemoryPolicy: known.find((policy) => policy !== 'noeviction') ?? known[0],
    workersExpected: workers.expected,
    workersRunning: workers.running,
    queues: unreachableMasters.length === 0 ? await executions.queueDepths() : [],
    nodes,
  };
  if (unreachableMasters.length > 0)
    health.error = unreachableMasters.map((node) => `${node.address}: ${node.error}`).join('; ');
  return health;
}

function maxmemoryPolicyOf(info: string): string | undefined {
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
}
