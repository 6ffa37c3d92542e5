import { INVALID_LOCK_OPTION, LOCK_MAX_HOLD } from '../../contracts/background-jobs.messages';
import { JobAbortedError } from '../../contracts';
import { InMemoryLock } from './in-memory.lock';

describe('InMemoryLock', () => {
  const locks: InMemoryLock[] = [];
  const newLock = () => {
    const lock = new InMemoryLock();
    locks.push(lock);
    return lock;
  };
  afterEach(async () => {
    await Promise.all(locks.splice(0).map((lock) => lock.close()));
  });

  it('gives a lease up after maxHoldMs, though renewal would keep it: lock-lost, and the key is free again', async () => {
    // NOTE: the clock is Jest's, so a busy CI host cannot delay a renewal past the TTL and lose the lease early.
    jest.useFakeTimers();
    try {
      const lock = newLock();
      const lease = (await lock.acquire('capped', { ttlMs: 300, maxHoldMs: 400 }))!;

      // Renewal every 100 ms keeps a 300 ms lease alive past its TTL…
      await jest.advanceTimersByTimeAsync(399);
      expect(lease.signal.aborted).toBe(false);
      expect(await lock.acquire('capped', { ttlMs: 300 })).toBeNull();

      // …until the cap ends it at 400 ms.
      await jest.advanceTimersByTimeAsync(1);
      expect(lease.signal.aborted).toBe(true);
      expect(lease.signal.reason).toBeInstanceOf(JobAbortedError);
      expect(lease.signal.reason).toMatchObject({ kind: 'lock-lost', message: LOCK_MAX_HOLD('capped', 400) });
      expect(await lock.acquire('capped', { ttlMs: 300 })).not.toBeNull();
      expect(await lease.extend()).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });

  it.each([
    ['maxHoldMs', { ttlMs: 300, maxHoldMs: 0 }, 0, 'a positive integer (milliseconds)'],
    ['maxHoldMs', { ttlMs: 300, maxHoldMs: 1.5 }, 1.5, 'a positive integer (milliseconds)'],
    ['ttlMs', { ttlMs: 2 }, 2, 'an integer ≥ 3 (milliseconds)'],
  ])('refuses an invalid %s (%j) as the Redis lock does', async (option, options, value, expected) => {
    await expect(newLock().acquire('bad', options)).rejects.toThrow(
      new RangeError(INVALID_LOCK_OPTION('bad', option, value, expected)),
    );
  });
});
