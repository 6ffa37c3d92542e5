import IORedis from 'ioredis';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { JobAbortedError, LockUnavailableError } from '../../contracts';
import { freePort, TestRedisServer } from '../../../../../test/support/redis-server';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../../../../../test/support/redis';
import { BullmqConnections } from '../bullmq/bullmq-connections';
import { RedisLock } from './redis-lock.adapter';

const createLockClient = (connection: { url: string }) => new BullmqConnections(connection).createClient('lock');

describe('RedisLock (real Redis)', () => {
  let prefix: string;
  let raw: IORedis;
  const locks: RedisLock[] = [];

  const newLock = (config: { acquireTimeoutMs?: number; url?: string } = {}): RedisLock => {
    const lock = new RedisLock(createLockClient({ url: config.url ?? testRedisUrl() }), {
      prefix,
      acquireTimeoutMs: config.acquireTimeoutMs,
    });
    locks.push(lock);
    return lock;
  };
  const aborted = (signal: AbortSignal): Promise<unknown> =>
    new Promise((resolve) => {
      if (signal.aborted) resolve(signal.reason);
      else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
    });

  beforeEach(() => {
    prefix = randomPrefix('lock');
    raw = new IORedis(testRedisUrl());
  });

  afterEach(async () => {
    await Promise.all(locks.splice(0).map((lock) => lock.close()));
    raw.disconnect();
    await deletePrefix(prefix);
  });

  it('gives one holder at a time under the transport prefix, and frees the key on release', async () => {
    const a = newLock();
    const b = newLock();
    const lease = await a.acquire('report', { ttlMs: 5_000 });
    expect(lease).not.toBeNull();
    expect(lease!.key).toBe('report');
    expect(await raw.pttl(`${prefix}:bgj:lock:report`)).toBeGreaterThan(4_000);
    expect(await b.acquire('report', { ttlMs: 5_000 })).toBeNull();

    await lease!.release();

    expect(await raw.exists(`${prefix}:bgj:lock:report`)).toBe(0);
    expect(lease!.signal.aborted).toBe(false);
    const next = await b.acquire('report', { ttlMs: 5_000 });
    expect(next!.fencingToken).toBeGreaterThan(lease!.fencingToken);
    await next!.release();
  });

  it('keeps a lease alive past its TTL by renewing every ttl/3', async () => {
    // NOTE: renewal every 400 ms keeps the key while the event loop is held up for less than 800 ms (ttl − ttl/3), a
    // stall a loaded host can cause; a 300 ms TTL left it 200 ms.
    const ttlMs = 1_200;
    const lease = (await newLock().acquire('long', { ttlMs }))!;
    const other = newLock();
    const started = Date.now();
    await waitFor('three TTLs to pass', () => Date.now() - started > 3 * ttlMs, 3 * ttlMs + 2_000);
    expect(lease.signal.aborted).toBe(false);
    expect(await other.acquire('long', { ttlMs })).toBeNull();
    await lease.release();
  });

  it('frees the lock after its TTL when the holder dies without releasing', async () => {
    const holderClient = createLockClient({ url: testRedisUrl() });
    const holder = new RedisLock(holderClient, { prefix });
    // NOTE: the key's TTL starts inside the acquire call, so its expiry is judged from before the call was sent (the
    // earliest it can have started); 2 s keeps the key through a slow disconnect before the check that it is held.
    const ttlMs = 2_000;
    const sent = Date.now();
    const lease = (await holder.acquire('orphan', { ttlMs }))!;
    holderClient.disconnect(); // the process is gone: no release, no renewal reaches Redis
    const other = newLock();
    expect(await other.acquire('orphan', { ttlMs })).toBeNull();

    const next = await waitFor(
      'the orphaned lock to expire',
      () => other.acquire('orphan', { ttlMs }),
      ttlMs + 3_000,
      20,
    );

    // NOTE: 10 ms for Redis and Node reading the same clock at different millisecond boundaries.
    expect(Date.now() - sent).toBeGreaterThanOrEqual(ttlMs - 10);
    expect(next!.fencingToken).toBeGreaterThan(lease.fencingToken);
    await next!.release();
    await holder.close();
  });

  it.each([
    ['deleted', (r: IORedis, key: string) => r.del(key)],
    ['overwritten', (r: IORedis, key: string) => r.set(key, 'someone-else', 'PX', 10_000)],
  ])('aborts the holder’s signal with lock-lost within ttl/3 + margin when the key is %s', async (_, tamper) => {
    const ttlMs = 900;
    const lease = (await newLock().acquire('victim', { ttlMs }))!;
    // NOTE: the renewal timer fires late by as much as the event loop is held up on a loaded host: measured over the
    // same window and added to the bound, as in test/e2e/stalled-check.e2e-spec.ts.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    await tamper(raw, `${prefix}:bgj:lock:victim`);
    // NOTE: judged from after the tamper answered: it took effect inside the call, and the next renewal finds it.
    const tamperedAt = Date.now();

    const reason = await aborted(lease.signal);
    const elapsed = Date.now() - tamperedAt;
    loopDelay.disable();

    expect(reason).toBeInstanceOf(JobAbortedError);
    expect((reason as JobAbortedError).kind).toBe('lock-lost');
    expect((reason as JobAbortedError).message).toContain('"victim"');
    // NOTE: one renewal period, 250 ms for the renewal's round trip, plus the longest the event loop was held up.
    expect(elapsed).toBeLessThanOrEqual(ttlMs / 3 + 250 + loopDelay.max / 1e6);
  });

  it('a release by a non-owner changes nothing', async () => {
    const lease = (await newLock().acquire('owned', { ttlMs: 5_000 }))!;
    const key = `${prefix}:bgj:lock:owned`;
    await raw.set(key, 'new-owner-token', 'PX', 5_000);

    await lease.release();

    expect(await raw.get(key)).toBe('new-owner-token');
    expect(await raw.pttl(key)).toBeGreaterThan(4_000);
  });

  it('a stale lease’s release leaves the next holder’s lock alone', async () => {
    const first = (await newLock().acquire('handover', { ttlMs: 5_000 }))!;
    await raw.del(`${prefix}:bgj:lock:handover`);
    const second = (await newLock().acquire('handover', { ttlMs: 5_000 }))!;
    expect(second).not.toBeNull();

    await first.release();

    expect(await newLock().acquire('handover', { ttlMs: 5_000 })).toBeNull();
    await second.release();
  });

  it('fencing tokens strictly increase over 1,000 acquisitions from racing instances', async () => {
    const instances = [newLock(), newLock(), newLock(), newLock()];
    const tokens: number[] = [];
    let holders = 0;
    let maxHolders = 0;
    await Promise.all(
      instances.map(async (lock) => {
        while (tokens.length < 1_000) {
          const lease = await lock.acquire('fenced', { ttlMs: 5_000 });
          if (!lease) continue;
          holders++;
          maxHolders = Math.max(maxHolders, holders);
          if (tokens.length < 1_000) tokens.push(lease.fencingToken);
          holders--;
          await lease.release();
        }
      }),
    );

    expect(tokens).toHaveLength(1_000);
    expect(maxHolders).toBe(1);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
  });

  it('fails acquire with LockUnavailableError in bounded time when Redis is unreachable', async () => {
    const acquireTimeoutMs = 500;
    const lock = newLock({ url: `redis://127.0.0.1:${await freePort()}`, acquireTimeoutMs });
    const started = Date.now();

    const error = await lock.acquire('nowhere', { ttlMs: 1_000 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LockUnavailableError);
    expect((error as LockUnavailableError).key).toBe('nowhere');
    // NOTE: the acquire timeout, plus 1.5 s for a refused connection's error to surface on a loaded host.
    expect(Date.now() - started).toBeLessThan(acquireTimeoutMs + 1_500);
  });

  it('gives the lease up after maxHoldMs: signal aborted with lock-lost, key deleted', async () => {
    const lease = (await newLock().acquire('capped', { ttlMs: 5_000, maxHoldMs: 300 }))!;

    const reason = (await aborted(lease.signal)) as JobAbortedError;

    expect(reason.kind).toBe('lock-lost');
    await waitFor(
      'the capped key to be deleted',
      async () => (await raw.exists(`${prefix}:bgj:lock:capped`)) === 0,
      2_000,
    );
  });

  it('withLock runs fn under the lock, releases after, and does not run fn when held', async () => {
    const lock = newLock();
    const inner = await lock.withLock('wl', { ttlMs: 5_000 }, async (lease) => {
      const busy = await newLock().withLock('wl', { ttlMs: 5_000 }, async () => 'never');
      return { token: lease.fencingToken, busy };
    });
    expect(inner).toEqual({ acquired: true, result: { token: expect.any(Number), busy: { acquired: false } } });
    expect(await raw.exists(`${prefix}:bgj:lock:wl`)).toBe(0);
  });

  it('300 acquires of one key asked for in the same tick (one batched call): exactly one lease, the rest null', async () => {
    // NOTE: a server of its own, whose script-call totals (INFO commandstats) count this test's calls alone: on the
    // shared server other suites run scripts beside this one, and one flushes the script cache (a NOSCRIPT retry).
    const server = await TestRedisServer.create();
    const own = new IORedis(server.url);
    try {
      const lock = newLock({ url: server.url });
      const commandsBefore = await evalCalls(own);
      const results = await Promise.all(Array.from({ length: 300 }, () => lock.acquire('crowded', { ttlMs: 5_000 })));
      const leases = results.filter((lease) => lease !== null);

      expect(leases).toHaveLength(1);
      expect(await own.get(`${prefix}:bgj:lock:crowded`)).not.toBeNull();
      // NOTE: 300 operations in one tick leave in ceil(300 / 256) = 2 script calls, not 300.
      expect((await evalCalls(own)) - commandsBefore).toBe(2);
      await leases[0]!.release();
      expect(await own.exists(`${prefix}:bgj:lock:crowded`)).toBe(0);
    } finally {
      own.disconnect();
      await Promise.all(locks.splice(0).map((lock) => lock.close()));
      await server.destroy();
    }
  });

  it('a release and the next acquire of the same key in one tick keep their order: the acquire finds the key free', async () => {
    const lock = newLock();
    const first = (await lock.acquire('handover', { ttlMs: 5_000 }))!;
    const [, second] = await Promise.all([first.release(), lock.acquire('handover', { ttlMs: 5_000 })]);

    expect(second).not.toBeNull();
    expect(second!.fencingToken).toBe(first.fencingToken + 1);
    await second!.release();
  });

  it('keeps working after the server drops its script cache (SCRIPT FLUSH, as after a failover)', async () => {
    const lock = newLock();
    const before = (await lock.acquire('flushed', { ttlMs: 5_000 }))!;
    await raw.script('FLUSH');

    await before.release();
    expect(await raw.exists(`${prefix}:bgj:lock:flushed`)).toBe(0);
    const after = await lock.acquire('flushed', { ttlMs: 5_000 });
    expect(after!.fencingToken).toBe(before.fencingToken + 1);
    await after!.release();
  });

  it('an acquire that timed out while Redis was busy gives the key back when its late answer took it', async () => {
    const lock = newLock({ acquireTimeoutMs: 50 });
    // NOTE: the warm-up loads the script and opens the connection; on a loaded host that can take longer than the
    // 50 ms under test, so it is tried until it answers in time (the assertion below is about the busy Redis only).
    await waitFor(
      'a warm-up acquire within 50 ms',
      () =>
        lock.acquire('warm-up', { ttlMs: 5_000 }).then(
          (lease) => lease!.release().then(() => true),
          () => false,
        ),
      10_000,
      50,
    );
    const blocker = new IORedis(testRedisUrl());
    await blocker.ping();
    // NOTE: a script that keeps Redis busy for 300 ms, written to Redis before the acquire is asked for: the acquire
    // waits behind it and cannot answer within its 50 ms, then takes the key once the script is done.
    const busy = blocker.eval(
      "local t = redis.call('TIME'); local start = t[1] * 1000000 + t[2]; repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start > 300000; return 1",
      0,
    );

    await expect(lock.acquire('late', { ttlMs: 5_000 })).rejects.toBeInstanceOf(LockUnavailableError);
    await busy;
    blocker.disconnect();

    await waitFor(
      'the late acquire to be given back',
      async () => (await raw.exists(`${prefix}:bgj:lock:late`)) === 0,
      2_000,
      10,
    );
    // NOTE: the late answer did take the key (the fencing counter moved); nobody holds it now.
    expect(Number(await raw.get(`${prefix}:bgj:fence:late`))).toBe(1);
    const next = await newLock().acquire('late', { ttlMs: 5_000 });
    expect(next?.fencingToken).toBe(2);
    await next!.release();
  });

  it('rejects a bad ttl with a message naming the key and the value', async () => {
    await expect(newLock().acquire('bad', { ttlMs: 0 })).rejects.toThrow(
      'DistributedLock.acquire("bad") got invalid ttlMs 0',
    );
  });
});

/** Script calls (EVAL + EVALSHA) the server has run so far. */
async function evalCalls(redis: IORedis): Promise<number> {
  const stats = await redis.info('commandstats');
  let calls = 0;
  for (const match of stats.matchAll(/^cmdstat_(eval|evalsha):calls=(\d+)/gm)) calls += Number(match[2]);
  return calls;
}
