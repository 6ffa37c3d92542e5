import IORedis from 'ioredis';
import { deletePrefix, randomPrefix, testRedisUrl } from '../../../../../test/support/redis';
import { PRIORITY_LIMIT } from './bullmq-fairness';
import { ACQUIRE_TENANT_SLOT, FAIR_ROUNDS, LuaCommand, RENEW_TENANT_SLOT } from './bullmq-scripts';

const TOP = '\u0000top';
/** A score of BullMQ's prioritized set: priority × 2^32 + insertion counter. */
const score = (priority: number, counter = 0) => priority * 2 ** 32 + counter;

describe('the fairness Lua scripts against Redis', () => {
  let redis: IORedis;
  let prefix: string;
  let rounds: string;
  let prioritized: string;
  let slots: string;

  const run = (command: LuaCommand, keys: string[], ...args: Array<string | number>) =>
    redis.eval(command.lua, command.numberOfKeys, ...keys, ...args);
  const fairRounds = (limit: number, ...tenants: string[]) =>
    run(FAIR_ROUNDS, [rounds, prioritized], limit, ...tenants) as Promise<number[]>;

  beforeAll(() => {
    redis = new IORedis(testRedisUrl());
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    prefix = randomPrefix('lua-fair');
    [rounds, prioritized, slots] = [`${prefix}:rounds`, `${prefix}:prioritized`, `${prefix}:slots`];
  });
  afterEach(async () => {
    await deletePrefix(prefix);
  });

  describe('fair-rounds-2', () => {
    it('gives tenants round robin rounds, FIFO inside a tenant, and records the highest round', async () => {
      expect(await fairRounds(PRIORITY_LIMIT, 'a', 'b', 'a', 'c', 'a')).toEqual([1, 1, 2, 1, 3]);
      expect(await redis.hget(rounds, TOP)).toBe('3');
      await redis.zadd(prioritized, score(1), 'job-1');
      expect(await fairRounds(PRIORITY_LIMIT, 'b', 'new')).toEqual([2, 1]);
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

  describe('acquire-tenant-slot-1 and renew-tenant-slot-1', () => {
    const acquire = (id: string, cap: number, ttlMs = 60_000) => run(ACQUIRE_TENANT_SLOT, [slots], id, ttlMs, cap);
    const renew = (id: string, ttlMs = 60_000) => run(RENEW_TENANT_SLOT, [slots], id, ttlMs);

    it('grants at most `cap` slots; a run that holds one keeps it when asking again', async () => {
      expect(await acquire('e1', 2)).toBe(1);
      expect(await acquire('e2', 2)).toBe(1);
      expect(await acquire('e3', 2)).toBe(0);
      expect(await acquire('e1', 2)).toBe(1);
      expect((await redis.zrange(slots, 0, -1)).sort()).toEqual(['e1', 'e2']);
      expect(await redis.pttl(slots)).toBeGreaterThan(0);
    });

    it("drops expired slots (a crashed instance's) by Redis's clock before counting", async () => {
      await acquire('e1', 1);
      await redis.zadd(slots, 1, 'e1');

      expect(await acquire('e2', 1)).toBe(1);
      expect(await redis.zrange(slots, 0, -1)).toEqual(['e2']);
    });

    it('renews a held slot and refuses, without taking one, a slot that expired', async () => {
      await acquire('e1', 1);
      const [, before] = await redis.zrange(slots, 0, -1, 'WITHSCORES');
      await new Promise((r) => setTimeout(r, 5));

      expect(await renew('e1', 120_000)).toBe(1);
      const [, after] = await redis.zrange(slots, 0, -1, 'WITHSCORES');
      expect(Number(after)).toBeGreaterThan(Number(before));
      expect(await renew('gone')).toBe(0);
      expect(await redis.zscore(slots, 'gone')).toBeNull();
    });
  });
});
