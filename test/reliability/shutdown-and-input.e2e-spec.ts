import type { JobExecution } from 'nestjs-background-jobs';
import { INVALID_PAYLOAD } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { AddressInfo, createServer, Socket } from 'node:net';
import { waitFor } from '../support/redis';
import { freePort } from '../support/redis-server';
import { ReliabilityWorld, waitForRows } from './support/reliability';

/** SIGTERM with and without Redis, and bad input: payloads at enqueue, Redis settings at boot. */
describe('reliability: shutdown and bad input', () => {
  const world = new ReliabilityWorld();

  beforeAll(() => world.setUpFile());
  afterAll(() => world.tearDownFile());
  beforeEach(() => world.setUpTest());
  afterEach(() => world.tearDownTest());

  describe('SIGTERM', () => {
    it('SIGTERM during a job: the job finishes before the process exits, once', async () => {
      const [a] = await world.start(['a'], [{ options: { id: 'report' }, kind: 'effect', holdMs: 1_500 }], {
        worker: { shutdownGraceMs: 5_000 },
      });
      const queue = world.queue();
      const id = await a.send<string>({ cmd: 'enqueue', jobId: 'report' });
      await waitForRows('the job to start', () => world.calls('report'), 5_000);

      const signalled = Date.now();
      a.kill('SIGTERM');
      const exit = await a.exited;

      const [effect] = await world.effects('report');
      expect(effect).toMatchObject({ execution_id: id, instance: 'a' });
      expect(effect.at.getTime()).toBeLessThanOrEqual(exit.at);
      expect(await queue.getJobState(id)).toBe('completed');
      expect((await queue.getJob(id))?.returnvalue).toMatchObject({ outcome: 'completed', value: 'a' });
      expect(await world.calls('report')).toHaveLength(1);
      expect(exit.signal).toBe('SIGTERM');
      process.stdout.write(
        `[reliability] SIGTERM during a 1.5 s job: exited ${exit.at - signalled} ms after the signal, job completed\n`,
      );
    }, 20_000);

    it('SIGTERM with Redis down: the process exits within grace + 2 s, and the job is recovered once Redis is back', async () => {
      const GRACE = 1_000;
      const worker = { shutdownGraceMs: GRACE, lockDurationMs: 1_500, stalledIntervalMs: 1_000 };
      const jobs = [
        {
          options: { id: 'export', retry: { attempts: 1 } },
          kind: 'effect' as const,
          holdMs: 60_000,
          holdFirstOnly: true,
        },
      ];
      const [a] = await world.start(['a'], jobs, { worker });
      const id = await a.send<string>({ cmd: 'enqueue', jobId: 'export' });
      await waitForRows('the job to start', () => world.calls('export'), 5_000);

      // NOTE: a persistent Redis going away: it keeps the queued job (SHUTDOWN SAVE) for its return.
      await world.redis.stopKeepingData();
      const signalled = Date.now();
      a.kill('SIGTERM');
      const exit = await a.exited;
      const exitMs = exit.at - signalled;
      expect(exitMs).toBeLessThan(GRACE + 2_000);

      await world.redis.start();
      const back = Date.now();
      const [b] = await world.start(['b'], jobs, { worker });
      const execution = await waitFor(
        'the job recovered',
        async () => {
          const found = await b.send<JobExecution>({ cmd: 'getExecution', executionId: id });
          return found?.state === 'completed' ? found : null;
        },
        15_000,
        50,
      );
      const recoveredMs = Date.now() - back;

      expect(execution).toMatchObject({ result: 'b' });
      expect(await world.effects('export')).toEqual([expect.objectContaining({ execution_id: id, instance: 'b' })]);
      expect((await world.calls('export')).map((c) => c.instance)).toEqual(['a', 'b']);
      process.stdout.write(
        `[reliability] SIGTERM with Redis down: exited ${exitMs} ms after the signal (grace ${GRACE} ms); recovered ${recoveredMs} ms after Redis returned\n`,
      );
    }, 30_000);
  });

  describe('bad input', () => {
    it.each<[string, { data?: unknown; make?: 'circular' | 'bigint' | 'function' }, RegExp]>([
      [
        'an oversized payload (over the default 512 KB)',
        { data: { rows: 'x'.repeat(600 * 1024) } },
        /it is \d+ bytes, over the limit of 524288 bytes/,
      ],
      ['a circular payload', { make: 'circular' }, /not JSON-serialisable \(.*circular/i],
      ['a BigInt', { make: 'bigint' }, /not JSON-serialisable \(data\.amount is a BigInt\)/],
      ['a function', { make: 'function' }, /not JSON-serialisable \(data\.onDone is a function\)/],
    ])('enqueue of %s is rejected with a clear error and nothing is enqueued', async (_label, payload, problem) => {
      const [a] = await world.start(['a'], [{ options: { id: 'import' }, kind: 'effect' }], { worker: false });
      const queue = world.queue();

      const error = await a.send({ cmd: 'enqueue', jobId: 'import', ...payload }).catch((e: Error) => e);

      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(problem);
      expect((error as Error).message).toContain(INVALID_PAYLOAD('import', '').split(':')[0]);
      expect(await queue.count()).toBe(0);
    });

    it("a payload that fails the job's schema on the worker fails permanently, body never called", async () => {
      const [a] = await world.start(
        ['a'],
        [
          {
            options: { id: 'welcome', retry: { attempts: 3, backoffMs: 10 } },
            kind: 'effect',
            schemaRequires: 'email',
          },
        ],
      );
      const id = await a.send<string>({ cmd: 'enqueue', jobId: 'welcome', data: { email: 42 } });
      const queue = world.queue();
      await waitFor('the run to fail', async () => (await queue.getJobState(id)) === 'failed', 10_000);

      expect(await a.send<JobExecution>({ cmd: 'getExecution', executionId: id })).toMatchObject({
        state: 'failed',
        attempts: 1,
        failure: { kind: 'permanent', message: expect.stringContaining('email: expected string') },
      });
      expect(await world.calls('welcome')).toHaveLength(0);
    });

    it.each<[string, (port: number, url: string) => string, RegExp, number]>([
      [
        'wrong Redis credentials',
        (_port, url) => url.replace('redis://', 'redis://nobody:wrong-secret@'),
        /WRONGPASS|invalid username-password/,
        0,
      ],
      ['an unreachable Redis', (port) => `redis://127.0.0.1:${port}`, /ECONNREFUSED|Connection is closed/, 0],
      // NOTE: accepts the connection and never answers (a hung or overloaded Redis): bounded by the 10 s connect timeout.
      ['a Redis that never answers', (port) => `redis://127.0.0.1:${port}`, /no answer within 10000 ms/, 10_000],
    ])(
      '%s at boot: one clear error line, exit without hanging',
      async (label, urlOf, cause, waitMs) => {
        const silent = waitMs ? createServer(() => undefined) : undefined;
        const port = silent
          ? await new Promise<number>((resolve) =>
              silent.listen(0, '127.0.0.1', () => resolve((silent.address() as AddressInfo).port)),
            )
          : await freePort();
        if (silent) {
          const sockets: Socket[] = [];
          silent.on('connection', (socket) => sockets.push(socket));
          world.defer(async () => {
            for (const socket of sockets) socket.destroy();
            await new Promise((resolve) => silent.close(resolve));
          });
        }
        const started = Date.now();
        const instance = world.spawn('a', [{ options: { id: 'tick', cron: '* * * * * *' }, kind: 'effect' }], {
          redisUrl: urlOf(port, world.redis.url),
        });
        await expect(instance.ready).rejects.toThrow(/exited \(code 1/);
        const exit = await instance.exited;
        const lines = instance.stderr.split('\n').filter((line) => line.trim() !== '');

        const lingeredMs = exit.at - (instance.firstStderrAt as number);

        expect(exit.code).toBe(1);
        // NOTE: the fixture does not call process.exit(): nothing the library opened may keep the process alive.
        expect(lingeredMs).toBeLessThan(1_000);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(
          /^Boot failed: BackgroundJobs cannot use Redis at redis:\/\/(\*\*\*@)?127\.0\.0\.1:\d+: .+\. Fix: /,
        );
        expect(lines[0]).toMatch(cause);
        expect(lines[0]).not.toContain('wrong-secret');
        expect(exit.at - started).toBeLessThan(waitMs + 8_000);
        process.stdout.write(
          `[reliability] ${label} at boot: exited ${exit.at - started} ms after spawn, ${lingeredMs} ms after its error line: ${lines[0]}\n`,
        );
      },
      30_000,
    );
  });
});
