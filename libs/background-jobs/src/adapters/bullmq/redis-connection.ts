import IORedis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import { BullmqConnection, RedisNodeAddress } from '../../contracts';
import { parseConnection, redact, RedisTarget } from './redis-connection-parser';

/** An ioredis client of either kind. */
export type RedisClient = IORedis | Cluster;

/** What a role needs of its connection, on top of the host's options. */
export interface ClientOverrides {
  /** Connect on first command instead of at once. */
  lazyConnect?: boolean;
  /** ioredis maxRetriesPerRequest (`null` for BullMQ's blocking connections). */
  maxRetriesPerRequest?: number | null;
  enableOfflineQueue?: boolean;
  enableAutoPipelining?: boolean;
  /** Commands sent on their own even with auto-pipelining on (ioredis `autoPipeliningIgnoredCommands`). */
  autoPipeliningIgnoredCommands?: string[];
  /** One connection attempt, no reconnect: for the boot check. */
  failFast?: boolean;
  connectTimeout?: number;
  disconnectTimeout?: number;
}

/**
 * Makes the Redis clients of one library instance from `transport.connection`: new clients the library owns
 * (and closes), or duplicates of the host's client. The host's own client is used only through `shared` and is
 * never closed here.
 */
export class RedisConnectionFactory {
  readonly target: RedisTarget;

  constructor(connection: BullmqConnection | unknown) {
    this.target = parseConnection(connection);
  }

  get isCluster(): boolean {
    return this.target.kind === 'cluster' || (this.target.kind === 'client' && this.target.client.isCluster);
  }

  /** The host's own client, when it passed one. */
  get shared(): RedisClient | undefined {
    return this.target.kind === 'client' ? this.target.client : undefined;
  }

  /** A new client for `role` (its CLIENT SETNAME is `bgj:<role>`), owned by the caller. */
  create(role: string, overrides: ClientOverrides = {}): RedisClient {
    const {
      failFast,
      lazyConnect,
      enableOfflineQueue,
      enableAutoPipelining,
      autoPipeliningIgnoredCommands,
      ...perNode
    } = overrides;
    const nodeOptions: RedisOptions = { ...perNode, connectionName: `bgj:${role}` };
    if (failFast) nodeOptions.retryStrategy = () => null;
    const clientLevel: Partial<ClusterOptions> = {};
    if (lazyConnect !== undefined) clientLevel.lazyConnect = lazyConnect;
    if (enableOfflineQueue !== undefined) clientLevel.enableOfflineQueue = enableOfflineQueue;
    if (enableAutoPipelining !== undefined) clientLevel.enableAutoPipelining = enableAutoPipelining;
    if (autoPipeliningIgnoredCommands !== undefined)
      clientLevel.autoPipeliningIgnoredCommands = autoPipeliningIgnoredCommands;
    const target = this.target;
    switch (target.kind) {
      case 'server':
        return target.url
          ? new IORedis(target.url, { ...target.options, ...nodeOptions, ...clientLevel })
          : new IORedis({ ...target.options, ...nodeOptions, ...clientLevel });
      case 'sentinel':
        return new IORedis({
          ...target.options,
          ...nodeOptions,
          ...clientLevel,
          ...(failFast ? { sentinelRetryStrategy: () => null } : {}),
        });
      case 'cluster':
        return new Cluster(target.nodes, this.clusterOptions(target.options, nodeOptions, clientLevel, failFast));
      case 'client': {
        const client = target.client;
        if (client instanceof Cluster || client.isCluster) {
          const cluster = client as Cluster;
          return cluster.duplicate(undefined, this.clusterOptions(cluster.options, nodeOptions, clientLevel, failFast));
        }
        return (client as IORedis).duplicate({ ...nodeOptions, ...clientLevel });
      }
    }
  }

  /** Where the connection points, without credentials: for boot errors and logs. */
  describe(): string {
    const target = this.target;
    const nodes = (list: RedisNodeAddress[]) => list.map((n) => `${n.host}:${n.port}`).join(',');
    switch (target.kind) {
      case 'server':
        if (target.url) return redact(target.url);
        return `${target.options.host}:${target.options.port}${target.options.db ? `/${target.options.db}` : ''}`;
      case 'sentinel':
        return `master "${target.options.name}" of sentinels ${nodes(target.options.sentinels as RedisNodeAddress[])}`;
      case 'cluster':
        return `cluster ${nodes(target.nodes)}`;
      case 'client': {
        const client = target.client;
        if (client.isCluster)
          return `the host's ioredis Cluster (${nodes((client as Cluster).nodes('all').map((node) => node.options as RedisNodeAddress))})`;
        const { host, port, sentinels, name } = (client as IORedis).options;
        return sentinels
          ? `the host's ioredis client (master "${name}" via Sentinel)`
          : `the host's ioredis client (${host}:${port})`;
      }
    }
  }

  private clusterOptions(
    base: ClusterOptions,
    nodeOptions: RedisOptions,
    clientLevel: Partial<ClusterOptions>,
    failFast?: boolean,
  ): ClusterOptions {
    const options: ClusterOptions = { ...base, ...clientLevel, redisOptions: { ...base.redisOptions, ...nodeOptions } };
    if (failFast) options.clusterRetryStrategy = () => null;
    return options;
  }
}
