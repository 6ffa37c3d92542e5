import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { waitFor } from './redis';
import { assertBinary, commandOn, RedisProcess } from './redis-process';
import { freePort, releasePort } from './ports';

const run = promisify(execFile);

/** A node of the test cluster as `CLUSTER NODES` reports it. */
interface NodeRole {
  port: number;
  id: string;
  role: 'master' | 'slave';
  masterId?: string;
}

/** A cluster node's arguments: its config file lives in the node's directory, kept across `restartEmpty`. */
const nodeArgs = (busPort: number): string[] => [
  '--cluster-enabled',
  'yes',
  '--cluster-config-file',
  'nodes.conf',
  '--cluster-node-timeout',
  '2000',
  '--cluster-port',
  String(busPort),
  '--maxmemory-policy',
  'noeviction',
];

/**
 * A 3-master/3-replica Redis Cluster on free local ports, started by the suites that need it (not by the global
 * setup: it takes a few seconds and most suites do not). Node timeout 2 s, so a failover settles quickly.
 */
export class TestRedisCluster {
  private constructor(
    readonly nodes: RedisProcess[],
    private readonly busPorts: number[],
  ) {}

  /** Seed nodes for `connection: { cluster: { nodes } }`. */
  get seeds(): Array<{ host: string; port: number }> {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  static async create(): Promise<TestRedisCluster> {
    assertBinary('redis-cli', 'redis-tools');
    const nodes: RedisProcess[] = [];
    const busPorts: number[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        nodes.push(
          await RedisProcess.start(async () => {
            // NOTE: an explicit bus port from the test port scheme: the default (port + 10000) is outside this
            // process's reserved block (another process's, or in the ephemeral range).
            const busPort = await freePort();
            busPorts.push(busPort);
            return nodeArgs(busPort);
          }),
        );
      }
      const cluster = new TestRedisCluster(nodes, busPorts);
      await run('redis-cli', [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ]);
      await cluster.waitUntilHealthy();
      return cluster;
    } catch (error) {
      await Promise.all(nodes.map((node) => node.destroy()));
      busPorts.forEach(releasePort);
      throw error;
    }
  }

  /** A cluster client for assertions (scan every master, read keys); the caller disconnects it. */
  client(): Cluster {
    const client = new Cluster(this.seeds, { redisOptions: { maxRetriesPerRequest: 1 } });
    client.on('error', () => undefined);
    return client;
  }

  /** Roles as the first reachable node sees them. */
  async roles(): Promise<NodeRole[]> {
    for (const node of this.nodes.filter((n) => n.running)) {
      try {
        const text = String(await commandOn(node.port, ['CLUSTER', 'NODES']));
        return text
          .trim()
          .split('\n')
          .map((line) => {
            const [id, address, flags, masterId] = line.split(' ');
            return {
              id,
              port: Number(address.split('@')[0].split(':')[1]),
              role: flags.includes('master') ? ('master' as const) : ('slave' as const),
              masterId: masterId === '-' ? undefined : masterId,
            };
          });
      } catch {
        // NOTE: try the next node: this one may be the one just killed.
      }
    }
    throw new Error('no cluster node answers CLUSTER NODES');
  }

  /** Ports of the current masters. */
  async masterPorts(): Promise<number[]> {
    return (await this.roles()).filter((n) => n.role === 'master').map((n) => n.port);
  }

  /**
   * `CLUSTER FAILOVER` on every shard's replica (a coordinated switch: no write is lost), then waits until every
   * node agrees on the new masters and the cluster is `ok` again. Returns the new masters' ports.
   */
  async failoverEveryShard(timeoutMs = 30_000): Promise<number[]> {
    const replicas = (await this.roles()).filter((n) => n.role === 'slave');
    const promoted = replicas.map((r) => r.port).sort();
    const deadline = Date.now() + timeoutMs;
    const pending = new Set(promoted);
    // NOTE: Redis aborts a manual failover that does not complete within 5 s (a replica that cannot catch up with
    // its master's offset on a loaded machine); such a shard is asked again.
    while (pending.size > 0) {
      if (Date.now() > deadline)
        throw new Error(`CLUSTER FAILOVER did not promote ${[...pending].join(', ')} within ${timeoutMs} ms`);
      for (const port of pending) await commandOn(port, ['CLUSTER', 'FAILOVER']).catch(() => undefined);
      await waitFor(
        `the replicas ${[...pending].join(', ')} to report role master`,
        async () => {
          for (const port of [...pending])
            if (((await commandOn(port, ['ROLE'])) as unknown[])[0] === 'master') pending.delete(port);
          return pending.size === 0;
        },
        6_000,
        100,
      ).catch(() => undefined);
    }
    await waitFor(
      `the replicas ${promoted.join(', ')} to become masters on every node`,
      async () => {
        for (const node of this.nodes) {
          const role = String(await commandOn(node.port, ['ROLE']));
          if ((promoted.includes(node.port) ? 'master' : 'slave') !== role.split(',')[0]) return false;
        }
        return true;
      },
      Math.max(1_000, deadline - Date.now()),
      100,
    );
    await this.waitUntilHealthy(Math.max(1_000, deadline - Date.now()));
    return promoted;
  }

  /** SIGKILLs the node on `port` (a lost machine); it stays down. */
  async killNode(port: number): Promise<void> {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node of this cluster listens on ${port}`);
    await node.kill();
  }

  /** Empties every master: the bench clears the cluster between drains with it. */
  async flushAll(): Promise<void> {
    for (const port of await this.masterPorts()) await commandOn(port, ['FLUSHALL']);
  }

  /**
   * SIGKILLs every node at once and starts each again on its port and directory with no data (no AOF, no RDB): a
   * whole cluster restarted empty. Each keeps its `nodes.conf`, so the shards, slots and roles come back as they were;
   * resolves once the cluster is `ok` with 3 synced replicas.
   */
  async restartEmpty(timeoutMs = 30_000): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
    for (let i = 0; i < this.nodes.length; i++)
      this.nodes[i] = await RedisProcess.start(nodeArgs(this.busPorts[i]), { port: this.nodes[i].port });
    await this.waitUntilHealthy(timeoutMs);
  }

  /** Stops every node and removes their directories. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.destroy()));
    this.busPorts.forEach(releasePort);
  }

  /** Every running node reports `cluster_state:ok`, sees 3 masters each with a synced replica. */
  private async waitUntilHealthy(timeoutMs = 20_000): Promise<void> {
    await waitFor(
      'the cluster to report cluster_state:ok on every node with 3 synced replicas',
      async () => {
        for (const node of this.nodes.filter((n) => n.running)) {
          const info = String(await commandOn(node.port, ['CLUSTER', 'INFO']));
          if (!info.includes('cluster_state:ok')) return false;
          const replication = String(await commandOn(node.port, ['INFO', 'replication']));
          if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false;
        }
        const roles = await this.roles();
        return (
          roles.filter((n) => n.role === 'master').length === 3 && roles.filter((n) => n.role === 'slave').length === 3
        );
      },
      timeoutMs,
      100,
    );
  }
}
