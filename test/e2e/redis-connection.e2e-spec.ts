import { BullModule, getSharedConfigToken } from '@nestjs/bullmq';
import { Test, TestingModule } from '@nestjs/testing';
import { QueueOptions } from 'bullmq';
import IORedis from 'ioredis';
import { BackgroundJobs, BackgroundJobsModule, BullmqConnection, JobContext } from 'nestjs-background-jobs';
import {
  CONFLICTING_CONNECTION_KEYS,
  CONNECTION_SERVER_KEYS,
  UNKNOWN_CONNECTION_KEY,
} from 'nestjs-background-jobs/contracts';
import { DEFAULTS } from 'nestjs-background-jobs/core/defaults';
import { defineJob, startJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, testRedisUrl } from '../support/redis';
import { freePort, TestRedisServer } from '../support/redis-server';
import { TestTlsRedis } from '../support/redis-tls';

/** The transport's boot check gives up after this long. */
const CONNECT_TIMEOUT_MS = DEFAULTS.connectTimeoutMs;
// NOTE: what compiling and closing a testing module may take on a loaded 2-core host, on top of what the case waits.
const BOOT_MARGIN_MS = 2_000;
// NOTE: a failure found before any connection beats half the connect timeout by far; one that waited on a
// connection would take the whole timeout.
const BEFORE_ANY_CONNECTION_MS = CONNECT_TIMEOUT_MS / 2;

/** What transport.connection accepts besides a URL, and the one line a bad one gives at boot. */
describe('transport.connection', () => {
  let prefix: string;
  const closers: Array<() => Promise<unknown>> = [];
  const Echo = defineJob('EchoJob', { id: 'echo' }, (ctx: JobContext<{ n: number }>) => ({ n: ctx.data.n }));

  beforeEach(() => {
    prefix = randomPrefix('conn');
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await deletePrefix(prefix);
  });

  const boot = async (connection: BullmqConnection): Promise<TestingModule> => {
    const app = await startJobsApp({ prefix, connection, jobs: [Echo] });
    closers.push(() => app.close());
    return app;
  };

  /** Boot's failure and how long it took. */
  const bootFailure = async (connection: unknown): Promise<{ message: string; ms: number }> => {
    const started = Date.now();
    try {
      await boot(connection as BullmqConnection);
    } catch (error) {
      return { message: (error as Error).message, ms: Date.now() - started };
    }
    throw new Error('boot succeeded');
  };

  describe('bad input stops the boot with one line, before or within the connect timeout', () => {
    it('an unknown key (the cluster shape of another library), before any connection', async () => {
      const failure = await bootFailure({ nodes: [{ host: '127.0.0.1', port: 7000 }] });
      expect(failure.message).toBe(
        UNKNOWN_CONNECTION_KEY('connection', 'nodes', ['cluster', ...CONNECTION_SERVER_KEYS]),
      );
      // NOTE: validation is synchronous at DI time, well inside half the connect timeout.
      expect(failure.ms).toBeLessThan(BEFORE_ANY_CONNECTION_MS);
    });

    it('both url and cluster', async () => {
      const failure = await bootFailure({
        url: testRedisUrl(),
        cluster: { nodes: [{ host: '127.0.0.1', port: 7000 }] },
      });
      expect(failure.message).toBe(
        CONFLICTING_CONNECTION_KEYS('cluster', 'url', 'a cluster is reached through cluster.nodes, not one server'),
      );
      expect(failure.ms).toBeLessThan(BEFORE_ANY_CONNECTION_MS);
    });

    it('an unreachable cluster: one line naming its nodes, within the connect timeout', async () => {
      const ports = [await freePort(), await freePort()];
      const failure = await bootFailure({ cluster: { nodes: ports.map((port) => ({ host: '127.0.0.1', port })) } });
      expect(failure.message.split('\n')).toHaveLength(1);
      expect(failure.message).toMatch(
        new RegExp(
          `^BackgroundJobs cannot use Redis at cluster 127\\.0\\.0\\.1:${ports[0]},127\\.0\\.0\\.1:${ports[1]}: .+\\. Fix: `,
        ),
      );
      // NOTE: the margin covers compiling the module and closing the probe.
      expect(failure.ms).toBeLessThan(CONNECT_TIMEOUT_MS + BOOT_MARGIN_MS);
    });

    it('an unreachable Sentinel set: one line naming the master and the sentinels, within the connect timeout', async () => {
      const port = await freePort();
      const failure = await bootFailure({ sentinels: [{ host: '127.0.0.1', port }], name: 'mymaster' });
      expect(failure.message).toMatch(
        new RegExp(
          `^BackgroundJobs cannot use Redis at master "mymaster" of sentinels 127\\.0\\.0\\.1:${port}: .+\\. Fix: `,
        ),
      );
      expect(failure.ms).toBeLessThan(CONNECT_TIMEOUT_MS + BOOT_MARGIN_MS);
    });
  });

  describe('TLS (a TLS-only redis-server with a self-signed certificate made for the test)', () => {
    let tls: TestTlsRedis;

    beforeAll(async () => {
      tls = await TestTlsRedis.create();
    }, 30_000);

    afterAll(async () => {
      await tls?.destroy();
    });

    afterEach(async () => {
      const redis = new IORedis(tls.url, { tls: { ca: tls.ca }, maxRetriesPerRequest: 1 });
      try {
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    });

    it('rediss:// with the CA: runs complete', async () => {
      const app = await boot({ url: tls.url, tls: { ca: tls.ca } });
      expect(await app.get(BackgroundJobs).runNow(Echo, { data: { n: 1 } })).toMatchObject({
        state: 'completed',
        result: { n: 1 },
      });
    });

    it('host, port and tls: runs complete', async () => {
      const app = await boot({ host: '127.0.0.1', port: tls.port, tls: { ca: tls.ca } });
      expect(await app.get(BackgroundJobs).runNow(Echo, { data: { n: 2 } })).toMatchObject({
        state: 'completed',
        result: { n: 2 },
      });
    });

    it('without the CA the certificate is refused: one line, no plain-text fallback', async () => {
      const failure = await bootFailure({ url: tls.url });
      expect(failure.message).toMatch(
        /^BackgroundJobs cannot use Redis at rediss:\/\/127\.0\.0\.1:\d+: self[- ]signed certificate[.;][^\n]* Fix: /,
      );
      expect(failure.ms).toBeLessThan(CONNECT_TIMEOUT_MS + BOOT_MARGIN_MS);
    });
  });

  describe("the host's own client", () => {
    it('an ioredis client: runs on it, and it is still open after the app closed', async () => {
      const host = new IORedis(testRedisUrl());
      closers.push(async () => host.disconnect());
      const app = await startJobsApp({ prefix, connection: host, jobs: [Echo] });

      expect(await app.get(BackgroundJobs).runNow(Echo, { data: { n: 3 } })).toMatchObject({
        state: 'completed',
        result: { n: 3 },
      });
      await app.close();

      expect(host.status).toBe('ready');
      expect(await host.ping()).toBe('PONG');
    });

    it("@nestjs/bullmq's BullModule.forRoot connection, reused through forRootAsync", async () => {
      const host = new IORedis(testRedisUrl(), { maxRetriesPerRequest: null });
      closers.push(async () => host.disconnect());
      const moduleRef = await Test.createTestingModule({
        imports: [
          BullModule.forRoot({ connection: host, prefix }),
          BackgroundJobsModule.forRootAsync({
            inject: [getSharedConfigToken()],
            useFactory: (bull: QueueOptions) => ({
              transport: { type: 'bullmq', connection: bull.connection as BullmqConnection, prefix: bull.prefix },
            }),
          }),
        ],
        providers: [Echo],
      }).compile();
      moduleRef.useLogger(false);
      await moduleRef.init();
      closers.push(() => moduleRef.close());

      expect(await moduleRef.get(BackgroundJobs).runNow(Echo, { data: { n: 4 } })).toMatchObject({
        state: 'completed',
        result: { n: 4 },
      });
      await moduleRef.close();
      expect(await host.ping()).toBe('PONG');
    });
  });

  it('connections per instance: 4 with one queue (commands shared by every Queue, the cancel subscriber, 2 per Worker), +2 per extra queue, +1 once the lock is used; 1 on a producer', async () => {
    const server = await TestRedisServer.create();
    closers.push(() => server.destroy());
    const admin = new IORedis(server.url);
    closers.push(async () => admin.disconnect());
    const adminId = await admin.client('ID');
    const clients = async () =>
      String(await admin.client('LIST'))
        .trim()
        .split('\n')
        .filter((line) => !line.startsWith(`id=${adminId} `)).length;
    const Other = defineJob('OtherJob', { id: 'other', queue: 'other' });
    const Locked = defineJob('LockedJob', { id: 'locked', lock: { ttlMs: 1_000 } });

    const counts: number[] = [];
    for (const jobs of [[Echo], [Echo, Other], [Echo, Locked]]) {
      const app = await startJobsApp({ prefix, connection: { url: server.url }, jobs });
      for (const job of jobs) await app.get(BackgroundJobs).runNow(job, { data: { n: 0 } });
      counts.push(await clients());
      await app.close();
    }
    const producer = await startJobsApp({ prefix, connection: { url: server.url }, jobs: [Echo], worker: false });
    await producer.get(BackgroundJobs).enqueue(Echo, { n: 0 });
    counts.push(await clients());
    await producer.close();

    expect(counts).toEqual([4, 6, 5, 1]);
  });
});
