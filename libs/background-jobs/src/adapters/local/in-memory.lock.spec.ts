import { INVALID_LOCK_OPTION, LOCK_MAX_HOLD } from '../../contracts/background-jobs.messages';
import { JobAbortedError } from '../../contracts';
import { waitFor } from '../../../../../test/support/redis';
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
    const lock = newLock();
    const lease = (await lock.acquire('capped', { ttlMs: 300, maxHoldMs: 400 }))!;
    const acquiredAt = Date.now();

    await waitFor('the cap', () => lease.signal.aborted, 2_000, 5);

    // NOTE: renewal every 100 ms would hold it forever; the cap ends it at 400 ms (timers may fire late, never early).
    expect(Date.now() - acquiredAt).toBeGreaterThanOrEqual(395);
    expect(lease.signal.reason).toBeInstanceOf(JobAbortedError);
    expect(lease.signal.reason).toMatchObject({ kind: 'lock-lost', message: LOCK_MAX_HOLD('capped', 400) });
    expect(await lock.acquire('capped', { ttlMs: 300 })).not.toBeNull();
    expect(await lease.extend()).toBe(false);
  });

  it.each([
    ['maxHoldMs', { ttlMs: 300, maxHoldMs: 0 }, 0, 'a positive integer (milliseconds)'],
    ['maxHoldMs', { ttlMs: 300, maxHoldMs: 1.5 }, 1.5, 'a positive integer (milliseconds)'],
    ['ttlMs', { ttlMs: 2 }, 2, 'an integer ≥ 3 (milliseconds)'],
  ])('refuses an invalid %s (%j) as the Redis lock does', async (option, options, value, expected) => {
    await expect(newLock().acquire('bad', options)).rejects.toThrow(new RangeError(INVALID_LOCK_OPTION('bad', option, value, expected)));
  });
});
