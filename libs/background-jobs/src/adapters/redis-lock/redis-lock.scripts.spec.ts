import IORedis from 'ioredis';
import { deletePrefix, randomPrefix, testRedisUrl } from '../../../../../test/support/redis';
import { BATCH, EXTEND } from './redis-lock.scripts';

describe('the lock Lua scripts against Redis', () => {
  let redis: IORedis;
  let prefix: string;
  let lock: string;
  let fence: string;

  beforeAll(() => {
    redis = new IORedis(testRedisUrl());
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    prefix = randomPrefix('lua-lock');
    [lock, fence] = [`${prefix}:lock`, `${prefix}:fence`];
  });
  afterEach(async () => {
    await deletePrefix(prefix);
  });

  /** One BATCH call: each operation is [kind, lock, fence, token, ttlMs]. */
  const batch = (...ops: Array<['a' | 'r', string, string, string, number]>) =>
    redis.eval(
      BATCH,
      ops.length * 2,
      ...ops.flatMap(([, l, f]) => [l, f]),
      ...ops.flatMap(([kind, , , token, ttl]) => [kind, token, ttl]),
    ) as Promise<Array<number | null>>;

  describe('acquire-release-batch-2n', () => {
    it('acquires with a growing fencing token, refuses a held lock, releases only its own token', async () => {
      expect(await batch(['a', lock, fence, 't1', 10_000])).toEqual([1]);
      expect(await redis.pttl(lock)).toBeGreaterThan(9_000);
      expect(await batch(['a', lock, fence, 't2', 10_000])).toEqual([null]);
      expect(await batch(['r', lock, fence, 't2', 0])).toEqual([0]);
      expect(await redis.get(lock)).toBe('t1');
      expect(await batch(['r', lock, fence, 't1', 0])).toEqual([1]);
      expect(await redis.exists(lock)).toBe(0);
      expect(await batch(['a', lock, fence, 't2', 10_000])).toEqual([2]);
    });

    it('runs the operations of one call in the order given', async () => {
      const other = `${prefix}:other`;
      const replies = await batch(
        ['a', lock, fence, 't1', 10_000],
        ['a', other, `${other}:fence`, 't1', 10_000],
        ['r', lock, fence, 't1', 0],
        ['a', lock, fence, 't2', 10_000],
      );

      expect(replies).toEqual([1, 1, 1, 2]);
      expect(await redis.get(lock)).toBe('t2');
    });
  });

  describe('extend-lock-1', () => {
    it('extends the lock while this token holds it, and leaves another holder alone', async () => {
      await batch(['a', lock, fence, 't1', 1_000]);

      expect(await redis.eval(EXTEND, 1, lock, 't1', 60_000)).toBe(1);
      expect(await redis.pttl(lock)).toBeGreaterThan(59_000);
      expect(await redis.eval(EXTEND, 1, lock, 't2', 120_000)).toBe(0);
      expect(await redis.pttl(lock)).toBeLessThanOrEqual(60_000);
      expect(await redis.eval(EXTEND, 1, `${prefix}:none`, 't1', 60_000)).toBe(0);
    });
  });
});
