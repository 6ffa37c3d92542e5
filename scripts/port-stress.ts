/**
 * Proves the test port scheme (test/support/ports.ts): starts and stops the suite's own servers `iterations` times,
 * split over `processes` concurrent processes (as Jest workers of several checkouts are), while each process's
 * clients churn connections (every one takes an ephemeral port). Every 25th start is a 3+3 Redis Cluster (12 ports,
 * bus ports included) and every 25th (offset) a Sentinel set; the rest are standalone servers. Any start-up failure
 * ends the run with exit code 1. Not part of the suite (it takes minutes):
 *
 *   npx ts-node --transpile-only scripts/port-stress.ts [iterations=500] [processes=2]
 */
import { fork } from 'node:child_process';
import IORedis from 'ioredis';
import { TestRedisCluster } from '../test/support/redis-cluster';
import { TestRedisSentinel } from '../test/support/redis-sentinel';
import { TestRedisServer } from '../test/support/redis-server';

const EVERY_TOPOLOGY = 25;

interface Tally {
  starts: number;
  standalone: number;
  clusters: number;
  sentinels: number;
  clientConnections: number;
  failures: string[];
}

async function worker(iterations: number, offset: number): Promise<Tally> {
  const tally: Tally = { starts: 0, standalone: 0, clusters: 0, sentinels: 0, clientConnections: 0, failures: [] };
  const home = await TestRedisServer.create();
  let churning = true;
  // NOTE: connections opened and closed back to back, each on a fresh ephemeral port, the way the suite's clients do.
  const churn = async () => {
    while (churning) {
      const clients = Array.from({ length: 10 }, () => new IORedis(home.url, { lazyConnect: true }));
      await Promise.all(clients.map((c) => c.connect().then(() => c.ping())));
      clients.forEach((c) => c.disconnect());
      tally.clientConnections += clients.length;
    }
  };
  const churners = [churn(), churn()];
  for (let i = 0; i < iterations; i++) {
    const n = offset + i;
    try {
      if (n % EVERY_TOPOLOGY === 0) {
        const cluster = await TestRedisCluster.create();
        const client = cluster.client();
        await client.set(`stress:${n}`, '1');
        client.disconnect();
        await cluster.destroy();
        tally.clusters++;
      } else if (n % EVERY_TOPOLOGY === Math.floor(EVERY_TOPOLOGY / 2)) {
        const sentinel = await TestRedisSentinel.create();
        await sentinel.destroy();
        tally.sentinels++;
      } else {
        const server = await TestRedisServer.create();
        const client = new IORedis(server.url);
        await client.ping();
        client.disconnect();
        await server.destroy();
        tally.standalone++;
      }
      tally.starts++;
    } catch (error) {
      tally.failures.push(`start ${n}: ${(error as Error).message}`);
    }
  }
  churning = false;
  await Promise.all(churners);
  await home.destroy();
  return tally;
}

async function main(): Promise<void> {
  const [role, a, b] = process.argv.slice(2);
  if (role === '--worker') {
    const tally = await worker(Number(a), Number(b));
    process.send?.(tally);
    return;
  }
  const iterations = Number(role ?? 500);
  const processes = Number(a ?? 2);
  const started = Date.now();
  const share = Math.ceil(iterations / processes);
  const tallies = await Promise.all(
    Array.from({ length: processes }, (_, p) => {
      const count = Math.min(share, iterations - p * share);
      return new Promise<Tally>((resolve, reject) => {
        const child = fork(__filename, ['--worker', String(count), String(p * share)], {
          execArgv: ['-r', 'ts-node/register/transpile-only'],
        });
        child.once('message', (m) => resolve(m as Tally));
        child.once('exit', (code) => code !== 0 && reject(new Error(`worker ${p} exited with ${code}`)));
      });
    }),
  );
  const sum = (key: keyof Omit<Tally, 'failures'>) => tallies.reduce((s, t) => s + t[key], 0);
  const failures = tallies.flatMap((t) => t.failures);
  console.log(
    `port-stress: ${sum('starts')}/${iterations} starts ok (${sum('standalone')} standalone, ${sum('clusters')} ` +
      `clusters, ${sum('sentinels')} sentinel sets) in ${processes} processes, ${sum('clientConnections')} client ` +
      `connections churned, ${failures.length} failures, ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  for (const failure of failures) console.log(`  ${failure}`);
  process.exitCode = failures.length ? 1 : 0;
}

void main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
