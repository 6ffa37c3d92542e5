import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './redis';
import { commandOn, RedisProcess } from './redis-process';

/**
 * A Sentinel set on free local ports: one master, one replica, three sentinels (quorum 2) watching them under
 * `name`. Started by the suites that need it. `down-after-milliseconds` is 1 s, so a failover settles in seconds.
 */
export class TestRedisSentinel {
  readonly name = 'bgj-test-master';

  private constructor(
    private readonly servers: RedisProcess[],
    private readonly sentinelProcesses: RedisProcess[],
  ) {}

  /** Sentinel addresses for `connection: { sentinels, name }`. */
  get sentinels(): Array<{ host: string; port: number }> {
    return this.sentinelProcesses.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  static async create(): Promise<TestRedisSentinel> {
    const started: RedisProcess[] = [];
    try {
      const master = await RedisProcess.start(['--maxmemory-policy', 'noeviction']);
      started.push(master);
      const replica = await RedisProcess.start([
        '--maxmemory-policy',
        'noeviction',
        '--replicaof',
        '127.0.0.1',
        String(master.port),
      ]);
      started.push(replica);
      const sentinels: RedisProcess[] = [];
      for (let i = 0; i < 3; i++) {
        const sentinel = await RedisProcess.start((port) => {
          // NOTE: Sentinel rewrites its config file (it records the other sentinels and the replicas there), so
          // each one gets a file of its own; options after the file name would not be saved.
          const dir = join(process.cwd(), '.redis-test', `topology-${port}`);
          const file = join(dir, 'sentinel.conf');
          mkdirSync(dir, { recursive: true });
          writeFileSync(
            file,
            [
              `sentinel monitor bgj-test-master 127.0.0.1 ${master.port} 2`,
              'sentinel down-after-milliseconds bgj-test-master 1000',
              'sentinel failover-timeout bgj-test-master 5000',
              'sentinel parallel-syncs bgj-test-master 1',
              '',
            ].join('\n'),
          );
          return [file, '--sentinel'];
        });
        started.push(sentinel);
        sentinels.push(sentinel);
      }
      const set = new TestRedisSentinel([master, replica], sentinels);
      await set.waitUntilSettled(master.port);
      return set;
    } catch (error) {
      await Promise.all(started.map((p) => p.destroy()));
      throw error;
    }
  }

  /** The master's port as the first sentinel reports it. */
  async masterPort(): Promise<number> {
    const reply = (await commandOn(this.sentinelProcesses[0].port, [
      'SENTINEL',
      'get-master-addr-by-name',
      this.name,
    ])) as string[];
    return Number(reply[1]);
  }

  /**
   * SIGKILLs the current master (a lost machine), waits until every sentinel names the replica as the new master
   * and it accepts writes, then starts the old one again (Sentinel makes it a replica of the new master).
   * Returns the new master's port.
   */
  /** When the last `killMaster` saw its master exit: writes it acknowledged before then may be lost. */
  lastKilledAt = 0;

  async killMaster(timeoutMs = 30_000): Promise<number> {
    const oldPort = await this.masterPort();
    const oldMaster = this.servers.find((s) => s.port === oldPort);
    const replica = this.servers.find((s) => s.port !== oldPort);
    if (!oldMaster || !replica) throw new Error(`no server of this set listens on ${oldPort}`);
    await oldMaster.kill();
    this.lastKilledAt = Date.now();
    await this.waitUntilSettled(replica.port, timeoutMs);
    const restarted = await RedisProcess.start(
      ['--maxmemory-policy', 'noeviction', '--replicaof', '127.0.0.1', String(replica.port)],
      { port: oldPort },
    );
    this.servers.splice(this.servers.indexOf(oldMaster), 1, restarted);
    return replica.port;
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.sentinelProcesses, ...this.servers].map((p) => p.destroy()));
  }

  /** Every sentinel names `masterPort`, that server is a master, and each sentinel knows the other two. */
  private async waitUntilSettled(masterPort: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `every sentinel to name 127.0.0.1:${masterPort} as master of ${this.name}`,
      async () => {
        for (const sentinel of this.sentinelProcesses) {
          const reply = (await commandOn(sentinel.port, [
            'SENTINEL',
            'get-master-addr-by-name',
            this.name,
          ])) as string[];
          if (Number(reply?.[1]) !== masterPort) return false;
          const others = (await commandOn(sentinel.port, ['SENTINEL', 'sentinels', this.name])) as unknown[];
          if (others.length < 2) return false;
        }
        const role = (await commandOn(masterPort, ['ROLE'])) as unknown[];
        return role[0] === 'master';
      },
      timeoutMs,
      100,
    );
  }
}
