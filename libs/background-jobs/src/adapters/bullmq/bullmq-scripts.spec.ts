import IORedis from 'ioredis';
import { deletePrefix, randomPrefix, testRedisUrl } from '../../../../../test/support/redis';
import { PRIORITY_LIMIT } from './bullmq-fairness';
import {
  ADMIT,
  BATCH_CHILD_ENDED,
  BATCH_TIMEOUT,
  DEPENDENCY_ENDED,
  DEPENDENCY_WAIT,
  FAIR_ROUNDS,
  LuaCommand,
  RENEW_SLOTS,
  SETTLE,
} from './bullmq-scripts';

const TOP = '\u0000top';
/** A score of BullMQ's prioritized set: priority × 2^32 + insertion counter. */
const score = (priority: number, counter = 0) => priority * 2 ** 32 + counter;

describe("the BullMQ adapter's Lua scripts against Redis", () => {
  let redis: IORedis;
  let prefix: string;
  let rounds: string;
  let prioritized: string;
  let weights: string;

  const run = (command: LuaCommand, keys: string[], ...args: Array<string | number>) =>
    redis.eval(command.lua, command.numberOfKeys, ...keys, ...args);
  const fairRounds = (limit: number, ...tenants: string[]) =>
    run(
      FAIR_ROUNDS,
      [rounds, prioritized, weights],
      limit,
      ...tenants.flatMap((tenant) => [tenant, 0, tenant]),
    ) as Promise<number[]>;

  beforeAll(() => {
    redis = new IORedis(testRedisUrl());
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    prefix = randomPrefix('lua-fair');
    [rounds, prioritized, weights] = [`${prefix}:rounds`, `${prefix}:prioritized`, `${prefix}:weights`];
  });
  afterEach(async () => {
    await deletePrefix(prefix);
  });

  describe('fair-rounds-3', () => {
    it('gives tenants round robin rounds, FIFO inside a tenant, and records the highest round', async () => {
      expect(await fairRounds(PRIORITY_LIMIT, 'a', 'b', 'a', 'c', 'a')).toEqual([1, 1, 2, 1, 3]);
      expect(await redis.hget(rounds, TOP)).toBe('3');
      await redis.zadd(prioritized, score(1), 'job-1');
      expect(await fairRounds(PRIORITY_LIMIT, 'b', 'new')).toEqual([2, 1]);
    });

    it('priority tiers: tier-major priorities, and each tier starts from the round it serves, or after the highest one given', async () => {
      const limit = 9; // rounds 1..9 per tier: tier t, round r is priority t * 10 + r
      const tiers = (...lanes: Array<[string, number]>) =>
        run(
          FAIR_ROUNDS,
          [rounds, prioritized, weights],
          limit,
          ...lanes.flatMap(([lane, tier]) => [lane, tier, lane.split('\u0000')[0]]),
        ) as Promise<number[]>;
      expect(await tiers(['a', 0], ['a\u00003', 3], ['b', 0], ['a\u00003', 3])).toEqual([1, 31, 1, 32]);
      await redis.zadd(prioritized, score(35, 1), 'job-t3');
      // tier 3 serves round 5; tier 0 has nothing pending, so it goes on after the highest round given (2)
      expect(await tiers(['c\u00003', 3], ['c', 0])).toEqual([35, 3]);
    });

    it('starts a returning tenant at the round being served (the lowest pending priority), not behind its old rounds', async () => {
      await fairRounds(PRIORITY_LIMIT, 'a', 'b');
      await redis.zadd(prioritized, score(5, 7), 'job-7');

      expect(await fairRounds(PRIORITY_LIMIT, 'a', 'late', 'a')).toEqual([5, 5, 6]);
    });

    it('with nothing pending drops the tenant fields and goes on after the highest round given', async () => {
      await fairRounds(PRIORITY_LIMIT, 'a', 'a', 'a', 'b');

      expect(await fairRounds(PRIORITY_LIMIT, 'b')).toEqual([4]);
      expect(await redis.hkeys(rounds)).toEqual(expect.arrayContaining([TOP, 'b']));
      expect(await redis.hexists(rounds, 'a')).toBe(0);
    });

    it('weights: a tenant of weight n gets n runs per round, in whichever order the runs come', async () => {
      await redis.hset(weights, 'a', 3);
      expect(await fairRounds(PRIORITY_LIMIT, 'a', 'a', 'a', 'a', 'a', 'b', 'b')).toEqual([1, 1, 1, 2, 2, 1, 2]);
      expect(await redis.hget(rounds, 'a')).toBe('2:2'); // round 2 holds 2 of a's 3
      await redis.zadd(prioritized, score(1), 'job-1'); // round 1 is being served
      expect(await fairRounds(PRIORITY_LIMIT, 'a', 'a', 'b')).toEqual([2, 3, 3]);
      expect(await redis.hget(rounds, 'a')).toBe('3:1');
    });

    it('weights: a weighted lane that fell behind the round being served starts there; a weight set back to 1 goes one per round', async () => {
      await redis.hset(weights, 'a', 2);
      expect(await fairRounds(PRIORITY_LIMIT, 'a', 'b', 'b', 'b')).toEqual([1, 1, 2, 3]);
      await redis.zadd(prioritized, score(3, 9), 'job-9'); // round 3 is served: a's room in round 1 is gone
      expect(await fairRounds(PRIORITY_LIMIT, 'a', 'a', 'a')).toEqual([3, 3, 4]);
      await redis.hdel(weights, 'a');
      expect(await fairRounds(PRIORITY_LIMIT, 'a', 'a', 'b')).toEqual([5, 6, 4]);
      expect(await redis.hget(rounds, 'a')).toBe('6');
    });

    it('weights: with nothing pending the lanes go but the weights stay', async () => {
      await redis.hset(weights, 'a', 2);
      await fairRounds(PRIORITY_LIMIT, 'a', 'b');
      expect(await fairRounds(PRIORITY_LIMIT, 'a', 'a', 'a')).toEqual([2, 2, 3]);
      expect(await redis.hget(weights, 'a')).toBe('2');
    });

    it('wraps around: from half of the priority range, an idle queue starts again at round 1', async () => {
      const limit = 10;
      await redis.hset(rounds, TOP, limit / 2 - 1, 'a', limit / 2 - 1);
      expect(await fairRounds(limit, 'a')).toEqual([limit / 2]);

      expect(await fairRounds(limit, 'b')).toEqual([1]);
      expect(await redis.hget(rounds, TOP)).toBe('1');
    });

    it('wraps around on the real BullMQ limit too, and never gives a round above it', async () => {
      await redis.hset(rounds, TOP, Math.ceil(PRIORITY_LIMIT / 2));
      expect(await fairRounds(PRIORITY_LIMIT, 'a')).toEqual([1]);

      await redis.zadd(prioritized, score(PRIORITY_LIMIT), 'job-at-the-limit');
      await redis.hset(rounds, 'b', PRIORITY_LIMIT);
      expect(await fairRounds(PRIORITY_LIMIT, 'b', 'c')).toEqual([PRIORITY_LIMIT, PRIORITY_LIMIT]);
    });
  });

  describe('admit-1 and settle-1 (flow control)', () => {
    // One rate check (2 per 1 s) and one concurrency check (1): execution id, member, no lease, checks.
    const checksOf = (id: string) => [id, `q|${id}`, 0, 2, 'rate', 'r', 2, 1_000, 'conc', 'c', 1, 0];
    // Slot ttl, number of runs, lease ms, leaseMin, then the runs.
    const admitAll = (...runs: Array<Array<string | number>>) =>
      run(ADMIT, [prefix], 60_000, runs.length, 50, 100, ...runs.flat()) as Promise<number[]>;
    const admit = (id: string) => admitAll(checksOf(id));
    const settle = (op: string, member: string) =>
      run(SETTLE, [prefix], op, 'conc', 1, member, 60_000) as Promise<string[]>;

    it('admits all or nothing: a full concurrency check takes nothing from the rate check', async () => {
      expect(await admit('e1')).toEqual([1, 0, 0, 0, 0]);
      expect(await admit('e2')).toEqual([0, 2, 0, 0, 0]);
      expect(await redis.zcard(`${prefix}:s:rate`)).toBe(1);
      expect(await redis.zrange(`${prefix}:c:conc`, 0, -1)).toEqual(['e1']);
    });

    it('judges the runs of one call in order, each seeing the starts and slots taken before it', async () => {
      const [e1, e2, e3] = ['e1', 'e2', 'e3'].map(checksOf);
      // e2 finds e1's slot taken; e3 finds e1's slot taken and the rate window still has room (one start).
      expect(await admitAll(e1, e2, e3)).toEqual([1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0]);
      await settle('release', 'e1');
      const [one, two] = await Promise.all([
        admitAll(checksOf('e4'), checksOf('e5')),
        redis.zrange(`${prefix}:s:rate`, 0, 0, 'WITHSCORES'),
      ]);
      // e4 takes the window's second start; e5 is refused by the rate check (index 1) until the first start leaves.
      expect(one.slice(0, 5)).toEqual([1, 0, 0, 0, 0]);
      expect(one.slice(5, 7)).toEqual([0, 1]);
      expect(one[7]).toBe(Number(two[1]) + 1_000 + 1);
    });

    it('refuses a full sliding window with the time its oldest start leaves it', async () => {
      expect(await admit('e1')).toEqual([1, 0, 0, 0, 0]);
      await settle('release', 'e1');
      expect(await admit('e2')).toEqual([1, 0, 0, 0, 0]);
      await settle('release', 'e2');
      const [, first] = await redis.zrange(`${prefix}:s:rate`, 0, 0, 'WITHSCORES');
      const [admitted, index, wake] = await admit('e3');
      expect([admitted, index]).toEqual([0, 1]);
      expect(wake).toBe(Number(first) + 1_000 + 1);
    });

    describe('leases (rate limits of at least leaseMin = 100)', () => {
      // A run on one rate check of `max` per 1 s asking for `want` more starts.
      const leasing = (id: string, want: number, max: number) => [id, `q|${id}`, want, 1, 'big', 'r', max, 1_000];
      const log = () => redis.zrange(`${prefix}:s:big`, 0, -1, 'WITHSCORES');

      it('grants the starts asked for, each counted at now + lease ms (50, a twentieth of the window at most)', async () => {
        const [admitted, , , leased, ms] = await admitAll(leasing('l1', 10, 1_000));
        expect([admitted, leased, ms]).toEqual([1, 10, 50]);
        const scores = (await log()).filter((_, i) => i % 2 === 1).map(Number);
        expect(scores).toHaveLength(11);
        expect(scores.slice(1).every((score) => score === scores[0] + 50)).toBe(true);
        expect(await redis.pttl(`${prefix}:s:big`)).toBeGreaterThan(1_000);
        // At most 64 per ask, whatever is asked for.
        expect((await admitAll(leasing('l2', 500, 1_000)))[3]).toBe(64);
      });

      it('grants only while the window stays at most half full, and nothing under leaseMin', async () => {
        // 100 per 1 s: 48 starts already, so one run and one leased start fill it to half (50).
        await admitAll(...Array.from({ length: 48 }, (_, i) => leasing(`p${i}`, 0, 100)));
        expect((await admitAll(leasing('l1', 10, 100))).slice(0, 4)).toEqual([1, 0, 0, 1]);
        expect((await admitAll(leasing('l2', 10, 100))).slice(0, 4)).toEqual([1, 0, 0, 0]);
        expect(await redis.zcard(`${prefix}:s:big`)).toBe(51);
        expect((await admitAll(leasing('small', 10, 99))).slice(0, 5)).toEqual([1, 0, 0, 0, 0]);
      });

      it('a lease asked for ahead (no parked member) counts only its leased starts, and when refused waits nowhere', async () => {
        const ahead = (id: string, want: number, max: number) => [id, '', want, 1, 'big', 'r', max, 1_000];
        const [admitted, , , leased, ms] = await admitAll(ahead('lease:x:1', 10, 1_000));
        expect([admitted, leased, ms]).toEqual([1, 10, 50]);
        const scores = (await log()).filter((_, i) => i % 2 === 1).map(Number);
        // Ten starts, all at the latest time they may be used: none at now for a run of its own.
        expect(scores).toHaveLength(10);
        expect(new Set(scores).size).toBe(1);
        // A full window (the 10 leased and 90 of these runs; the last 10 wait) refuses it (check 1) with no wake time,
        // and writes no waiter for it.
        await admitAll(...Array.from({ length: 100 }, (_, i) => leasing(`p${i}`, 0, 100)));
        expect(await admitAll(ahead('lease:x:2', 10, 100))).toEqual([0, 1, 0, 0, 0]);
        expect(await redis.zscore(`${prefix}:rw:big`, '')).toBeNull();
      });

      it('grants nothing to a run with a concurrency check, or whose override takes its limit under leaseMin', async () => {
        const mixed = ['m1', 'q|m1', 10, 2, 'big', 'r', 1_000, 1_000, 'conc', 'c', 5, 0];
        expect(await admitAll(mixed)).toEqual([1, 0, 0, 0, 0]);
        await redis.hset(`${prefix}:o`, 'big', '20,1000,');
        expect(await admitAll(leasing('o1', 10, 1_000))).toEqual([1, 0, 0, 0, 0]);
      });
    });

    it('parks a refused run and wakes it, once, when the slot frees', async () => {
      expect(await admit('e1')).toEqual([1, 0, 0, 0, 0]);
      expect(await settle('park', 'q|e2')).toEqual([]);
      expect(await settle('release', 'e1')).toEqual(['conc', 'q|e2']);
      // Woken and not yet admitted, it keeps its place: nothing else is woken, and it is admitted itself.
      expect(await settle('sweep', '')).toEqual([]);
      expect(await admit('e2')).toEqual([1, 0, 0, 0, 0]);
      expect(await redis.zcard(`${prefix}:w:conc`)).toBe(0);
    });
  });
  describe('renew-1 (flow control)', () => {
    const admit = (id: string) =>
      run(ADMIT, [prefix], 60_000, 1, 50, 100, id, `q|${id}`, 0, 1, 'conc', 'c', 2, 0) as Promise<number[]>;
    const renew = (id: string, ttlMs: number) => run(RENEW_SLOTS, [prefix], id, ttlMs, 'conc') as Promise<number>;

    it("moves a held slot's expiry to now + ttl on Redis time and counts it", async () => {
      expect(await admit('e1')).toEqual([1, 0, 0, 0, 0]);
      const [seconds, micros] = await redis.time();
      expect(await renew('e1', 120_000)).toBe(1);
      const expiry = Number(await redis.zscore(`${prefix}:c:conc`, 'e1'));
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      // NOTE: the script reads TIME after this test did; 1 s covers the round trips in between.
      expect(expiry).toBeGreaterThanOrEqual(now + 120_000);
      expect(expiry).toBeLessThan(now + 120_000 + 1_000);
    });

    it('does not take back a slot that expired or was released meanwhile', async () => {
      expect(await admit('e1')).toEqual([1, 0, 0, 0, 0]);
      await redis.zrem(`${prefix}:c:conc`, 'e1');
      expect(await renew('e1', 60_000)).toBe(0);
      expect(await redis.zscore(`${prefix}:c:conc`, 'e1')).toBeNull();
    });
  });

  describe('batch-child-ended-2 (batches)', () => {
    let hash: string;
    let ended: string;
    const end = (id: string, state: string, tenant = '') =>
      run(BATCH_CHILD_ENDED, [hash, ended], id, state, tenant) as Promise<[number, string[]] | null>;
    const fields = async () => redis.hgetall(hash);

    beforeEach(async () => {
      [hash, ended] = [`${prefix}:batch`, `${prefix}:batch:ended`];
      await redis.hset(hash, { total: 3, completed: 0, failed: 0, cancelled: 0, pending: 3, state: 'running' });
    });

    it('counts each child once, even when its end is reported twice', async () => {
      expect((await end('c1', 'completed'))![0]).toBe(0);
      expect((await end('c1', 'completed'))![0]).toBe(0);
      expect(await fields()).toMatchObject({ completed: '1', pending: '2', state: 'running' });
    });

    it('the count that ends the batch settles its state, and the callbacks stay due until confirmed enqueued', async () => {
      await end('c1', 'completed');
      await end('c2', 'failed');
      const [due] = (await end('c3', 'completed'))!;
      expect(due).toBe(1);
      expect(await fields()).toMatchObject({ completed: '2', failed: '1', pending: '0', state: 'failed' });
      // A repeated report (the instance died before enqueueing the callbacks) is told they are still due.
      expect((await end('c3', 'completed'))![0]).toBe(1);
      await redis.hset(hash, 'callbacks', 'enqueued');
      expect((await end('c3', 'completed'))![0]).toBe(0);
    });

    it("a child with a tenant moves its tenant's counts too, once", async () => {
      await redis.hset(hash, { 't.total:acme': 2, 't.pending:acme': 2 });
      await end('c1', 'failed', 'acme');
      await end('c1', 'failed', 'acme');
      await end('c2', 'completed');
      expect(await fields()).toMatchObject({
        failed: '1',
        completed: '1',
        't.failed:acme': '1',
        't.pending:acme': '1',
      });
      expect(await redis.hexists(hash, 't.completed:acme')).toBe(0);
    });

    it('a batch whose children all completed succeeds', async () => {
      for (const id of ['c1', 'c2', 'c3']) await end(id, 'completed');
      expect(await fields()).toMatchObject({ completed: '3', pending: '0', state: 'succeeded' });
    });

    it('answers nil for an unknown batch and records nothing', async () => {
      await redis.del(hash);
      expect(await end('c1', 'completed')).toBeNull();
      expect(await redis.exists(ended)).toBe(0);
    });
  });

  describe('batch-timeout-2 (batches)', () => {
    let hash: string;
    let ended: string;
    const end = (id: string, state: string, tenant = '') =>
      run(BATCH_CHILD_ENDED, [hash, ended], id, state, tenant) as Promise<[number, string[]] | null>;
    const timeout = () => run(BATCH_TIMEOUT, [hash, ended], 'b') as Promise<[number, string[], string[]] | null>;

    beforeEach(async () => {
      [hash, ended] = [`${prefix}:batch`, `${prefix}:batch:ended`];
      await redis.hset(hash, { total: 3, completed: 0, failed: 0, cancelled: 0, pending: 3, state: 'running' });
    });

    it('ends a running batch failed, counts the children not ended as cancelled and names them; late ends count nothing', async () => {
      await end('b.0', 'completed');
      const [due, , ids] = (await timeout())!;
      expect([due, ids]).toEqual([1, ['b.1', 'b.2']]);
      expect(await redis.hgetall(hash)).toMatchObject({
        completed: '1',
        cancelled: '2',
        pending: '0',
        state: 'failed',
      });
      // A child ending after the timeout: no count, and the callbacks are due until confirmed, never again after.
      expect((await end('b.1', 'completed'))![0]).toBe(1);
      await redis.hset(hash, 'callbacks', 'enqueued');
      expect((await end('b.2', 'failed'))![0]).toBe(0);
      expect(await redis.hgetall(hash)).toMatchObject({ completed: '1', failed: '0', cancelled: '2', pending: '0' });
      expect(await redis.hget(hash, 'cancelled')).toBe('2');
    });

    it('run again before its callbacks were confirmed (its instance died), it names the same children, counts nothing again', async () => {
      await end('b.0', 'completed');
      await timeout();
      expect(await timeout()).toEqual([1, expect.any(Array), ['b.1', 'b.2']]);
      expect(await redis.hgetall(hash)).toMatchObject({ completed: '1', cancelled: '2', pending: '0' });
      await redis.hset(hash, 'callbacks', 'enqueued');
      expect(await timeout()).toEqual([0, expect.any(Array), []]);
    });

    it("moves each tenant's pending children to its cancelled count", async () => {
      await redis.hset(hash, { 't.total:acme': 2, 't.pending:acme': 2, 't.total:globex': 1, 't.pending:globex': 1 });
      await end('b.0', 'completed', 'acme');
      await timeout();
      expect(await redis.hgetall(hash)).toMatchObject({
        cancelled: '2',
        't.completed:acme': '1',
        't.pending:acme': '0',
        't.cancelled:acme': '1',
        't.pending:globex': '0',
        't.cancelled:globex': '1',
      });
    });

    it('a batch that finished before its timeout is left as it is, nothing to cancel', async () => {
      for (const id of ['b.0', 'b.1', 'b.2']) await end(id, 'completed');
      await redis.hset(hash, 'callbacks', 'enqueued');
      expect(await timeout()).toEqual([0, expect.any(Array), []]);
      expect(await redis.hgetall(hash)).toMatchObject({ completed: '3', cancelled: '0', state: 'succeeded' });
    });

    it('answers nil for an unknown batch', async () => {
      await redis.del(hash);
      expect(await timeout()).toBeNull();
    });
  });

  describe('dependency-wait-1 and dependency-ended-1 (continuations)', () => {
    let base: string;
    const wait = (dependent: string, queue: string, ...dependencies: string[]) =>
      run(DEPENDENCY_WAIT, [base], dependent, queue, ...dependencies);
    const ended = (id: string) => run(DEPENDENCY_ENDED, [base], id) as Promise<string[]>;

    beforeEach(() => {
      base = `${prefix}:deps`;
    });

    it('wakes a dependent only when its last pending dependency ends, with its queue', async () => {
      await wait('b', 'reports', 'a1', 'a2');
      expect(await ended('a1')).toEqual([]);
      expect(await redis.scard(`${base}:on:b`)).toBe(1);
      expect(await ended('a2')).toEqual(['reports', 'b']);
      expect(await redis.exists(`${base}:on:b`, `${base}:of:a1`, `${base}:of:a2`)).toBe(0);
      expect(await redis.hexists(`${base}:queue`, 'b')).toBe(0);
    });

    it('takes the ends of several executions in one call, and skips those without dependents', async () => {
      await wait('b', 'q1', 'a1', 'a2');
      await wait('c', 'q2', 'a2');
      const woken = (await run(DEPENDENCY_ENDED, [base], 'x', 'a1', 'y', 'a2')) as string[];
      const pairs = [0, 2].map((i) => `${woken[i]}|${woken[i + 1]}`).sort();
      expect([woken.length, ...pairs]).toEqual([4, 'q1|b', 'q2|c']);
      expect(await redis.exists(`${base}:on:b`, `${base}:on:c`, `${base}:of:a1`, `${base}:of:a2`)).toBe(0);
    });

    it('an end told twice wakes nobody twice; one dependency wakes each of its dependents', async () => {
      await wait('b', 'q1', 'a');
      await wait('c', 'q2', 'a');
      expect(((await ended('a')) as string[]).sort()).toEqual(['b', 'c', 'q1', 'q2']);
      expect(await ended('a')).toEqual([]);
    });
  });
});
