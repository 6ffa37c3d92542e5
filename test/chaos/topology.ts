import { rmSync } from 'node:fs';
import { Queue } from 'bullmq';
import IORedis, { Cluster } from 'ioredis';
import { TestRedisCluster } from '../support/redis-cluster';
import { commandOn, RedisProcess } from '../support/redis-process';
import { TestRedisSentinel } from '../support/redis-sentinel';
import { FaultyProxy } from './proxy';
import type { Topology } from './schedule';
import type { ChaosConnection, NatMap } from './workload';

export const QUEUE = 'background-jobs';

/** One Sentinel data node as it describes itself (see `ChaosRedis.replication`). */
export interface ReplicationView {
  port: number;
  role: 'master' | 'replica' | 'down';
  offset: number;
  masterPort?: number;
  linkUp?: boolean;
}
const ARGS = ['--maxmemory-policy', 'noeviction'];

/**
 * The Redis a soak runs on, started by the harness through test/support: one AOF-backed server (standalone), a
 * Sentinel set (1 master, 1 replica, 3 sentinels) or a 3+3 cluster. Each app process reaches every data node
 * through a proxy of its own; the sentinels are asked directly (only the master they name is proxied).
 */
export class ChaosRedis {
  private standalone?: RedisProcess;
  private sentinel?: TestRedisSentinel;
  private cluster?: TestRedisCluster;
  /** Ports of the data nodes (what the proxies forward to); they keep their ports across restarts. */
  dataPorts: number[] = [];

  constructor(readonly kind: Topology) {}

  async start(): Promise<void> {
    if (this.kind === 'standalone') {
      this.standalone = await RedisProcess.start(ARGS, { appendOnly: true });
      this.dataPorts = [this.standalone.port];
    } else if (this.kind === 'sentinel') {
      this.sentinel = await TestRedisSentinel.create();
      const master = await this.sentinel.masterPort();
      const replicas = (await commandOn(this.sentinel.sentinels[0].port, [
        'SENTINEL',
        'replicas',
        this.sentinel.name,
      ])) as string[][];
      this.dataPorts = [master, ...replicas.map((r) => Number(r[r.indexOf('port') + 1]))];
    } else {
      this.cluster = await TestRedisCluster.create();
      this.dataPorts = this.cluster.nodes.map((n) => n.port);
    }
  }

  /** The connection of one app process, every data node reached through `proxies` (node port → its proxy). */
  connection(proxies: Map<number, FaultyProxy>): ChaosConnection {
    const natMap: NatMap = {};
    for (const [port, proxy] of proxies) natMap[`127.0.0.1:${port}`] = { host: '127.0.0.1', port: proxy.port };
    if (this.standalone) return { kind: 'standalone', port: (proxies.get(this.standalone.port) as FaultyProxy).port };
    if (this.sentinel)
      return { kind: 'sentinel', sentinels: this.sentinel.sentinels, name: this.sentinel.name, natMap };
    return { kind: 'cluster', seeds: [...proxies.values()].map((p) => ({ host: '127.0.0.1', port: p.port })), natMap };
  }

  /**
   * SIGKILL then start again on the same port: from the AOF (every acknowledged write back), or wiped (empty).
   * Resolves with when the server exited (what it acknowledged before then is lost when it comes back empty).
   */
  async restartStandalone(empty: boolean, downMs: number): Promise<number> {
    const node = this.standalone as RedisProcess;
    await node.kill();
    const killedAt = Date.now();
    if (empty) rmSync(node.dir, { recursive: true, force: true });
    await new Promise((r) => setTimeout(r, downMs));
    this.standalone = await RedisProcess.start(ARGS, { port: node.port, appendOnly: true });
    return killedAt;
  }

  /**
   * Sentinel: SIGKILL of the master, the replica promoted, the old master back as its replica. Resolves with when the
   * master exited (what it acknowledged and had not replicated by then is lost).
   */
  async sentinelFailover(): Promise<number> {
    const sentinel = this.sentinel as TestRedisSentinel;
    await sentinel.killMaster();
    return sentinel.lastKilledAt;
  }

  /**
   * What each Sentinel data node says of itself now (INFO replication, asked directly): its role, its replication
   * offset and, for a replica, its master and whether the link is up. A node that does not answer is `down`.
   */
  async replication(): Promise<ReplicationView[]> {
    return Promise.all(
      this.dataPorts.map(async (port): Promise<ReplicationView> => {
        try {
          const info = String(await commandOn(port, ['INFO', 'replication'], { connectTimeout: 500 }));
          const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
          const role = field('role') === 'master' ? 'master' : 'replica';
          const offset = Number(field(role === 'master' ? 'master_repl_offset' : 'slave_repl_offset') ?? 0);
          if (role === 'master') return { port, role, offset };
          return {
            port,
            role,
            offset,
            masterPort: Number(field('master_port')),
            linkUp: field('master_link_status') === 'up',
          };
        } catch {
          return { port, role: 'down', offset: 0 };
        }
      }),
    );
  }

  /** Sentinel: the master each sentinel names now (`:port`, or `?` when one does not answer). */
  async sentinelsSay(): Promise<string[]> {
    const sentinel = this.sentinel as TestRedisSentinel;
    return Promise.all(
      sentinel.sentinels.map(async ({ port }) => {
        try {
          const reply = (await commandOn(port, ['SENTINEL', 'get-master-addr-by-name', sentinel.name], {
            connectTimeout: 500,
          })) as string[];
          return `:${reply[1]}`;
        } catch {
          return '?';
        }
      }),
    );
  }

  /** Cluster: a coordinated CLUSTER FAILOVER of every shard, until the cluster is ok again. */
  async clusterFailover(): Promise<void> {
    await (this.cluster as TestRedisCluster).failoverEveryShard();
  }

  /** A direct client (no proxy) for the harness's checks; the caller disconnects it. */
  client(): IORedis | Cluster {
    if (this.cluster) return this.cluster.client();
    const redis = this.sentinel
      ? new IORedis({ sentinels: this.sentinel.sentinels, name: this.sentinel.name, maxRetriesPerRequest: 3 })
      : new IORedis({ host: '127.0.0.1', port: this.dataPorts[0], maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined);
    return redis;
  }

  /** A BullMQ queue on the app's queue (cluster: the library's hash-tagged prefix); the caller closes it. */
  queue(prefix: string): Queue {
    const queue = new Queue(QUEUE, {
      connection: this.client() as never,
      prefix: this.cluster ? `${prefix}:{${QUEUE}}` : prefix,
    });
    queue.on('error', () => undefined);
    return queue;
  }

  /** Every key under `prefix` (on a cluster, from every master). */
  async keys(prefix: string): Promise<string[]> {
    const found: string[] = [];
    const scan = async (redis: IORedis) => {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        found.push(...keys);
      } while (cursor !== '0');
    };
    const client = this.client();
    try {
      if (client instanceof Cluster) {
        if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
        for (const node of client.nodes('master')) await scan(node);
      } else await scan(client);
    } finally {
      client.disconnect();
    }
    return found;
  }

  async destroy(): Promise<void> {
    await this.standalone?.destroy();
    await this.sentinel?.destroy();
    await this.cluster?.destroy();
  }
}
