import IORedis from 'ioredis';
import { deletePrefix, randomPrefix, testRedisUrl } from '../../../../../test/support/redis';
import { Admission, AdmissionCheck } from '../../core';
import { BullmqAdmission } from './bullmq-admission';

const concurrency = (max: number): AdmissionCheck => ({
  id: 'j|conc|',
  limit: 'conc',
  key: '',
  kind: 'concurrency',
  max,
});
const rate = (max: number, durationMs: number): AdmissionCheck => ({
  id: 'j|rate|',
  limit: 'rate',
  key: '',
  kind: 'rate',
  max,
  durationMs,
});

/** As the admission stage asks: a start leased to the process first, with no call, then the store. */
const admitRun = (from: BullmqAdmission, executionId: string, checks: AdmissionCheck[]): Promise<Admission> =>
  from.admitAtOnce(checks)
    ? Promise.resolve({ admitted: true, permit: undefined })
    : from.admit(executionId, 'q', checks);

describe('BullmqAdmission (Redis): the admissions of one tick', () => {
  let redis: IORedis;
  let prefix: string;
  let store: BullmqAdmission;
  let scriptCalls: number;

  beforeEach(() => {
    redis = new IORedis(testRedisUrl());
    prefix = randomPrefix('admit-batch');
    store = new BullmqAdmission(() => redis, `${prefix}:adm`, 60_000);
    scriptCalls = 0;
    const send = redis.sendCommand.bind(redis);
    jest.spyOn(redis, 'sendCommand').mockImplementation((command, stream) => {
      if (['evalsha', 'eval'].includes(command.name)) scriptCalls += 1;
      return send(command, stream);
    });
  });
  afterEach(async () => {
    store.stop();
    await redis.quit();
    await deletePrefix(prefix);
  });

  it('go to Redis as one script call and are judged in the order asked: the first `max` of 10 take the slots', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `e${i}`);
    const admissions = await Promise.all(ids.map((id) => store.admit(id, 'q', [concurrency(3)])));
    expect(admissions.map((a) => a.admitted)).toEqual([true, true, true, ...Array<boolean>(7).fill(false)]);
    const refused = admissions[3];
    expect(refused.admitted === false && [refused.refused.limit, refused.waiting.reason]).toEqual([
      'conc',
      'concurrency',
    ]);
    // NOTE: one EVALSHA (or, on a server that has not cached the script yet, EVALSHA then EVAL).
    expect(scriptCalls).toBeLessThanOrEqual(2);
    expect((await redis.zrange(`${prefix}:adm:c:j|conc|`, 0, -1)).sort()).toEqual(['e0', 'e1', 'e2']);
    await Promise.all(admissions.map((a) => (a.admitted ? a.permit?.release() : undefined)));
  });

  it('a rate limit of 5 admits the first 5 of 8 asked in one tick and gives the others the time their place opens', async () => {
    const admissions = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.admit(`r${i}`, 'q', [rate(5, 60_000)])),
    );
    expect(admissions.map((a) => a.admitted)).toEqual([true, true, true, true, true, false, false, false]);
    const [first] = await redis.zrange(`${prefix}:adm:s:j|rate|`, 0, 0, 'WITHSCORES').then((r) => [Number(r[1])]);
    const wakes = admissions.slice(5).map((a) => (a.admitted ? 0 : a.waiting.until?.getTime()));
    // All 5 starts share one Redis time: each waiter's place opens a window after it.
    expect(wakes).toEqual([first + 60_001, first + 60_001, first + 60_001]);
  });

  it('300 asked in one tick (three calls of at most 128) still judge every run once, in order', async () => {
    const admissions = await Promise.all(
      Array.from({ length: 300 }, (_, i) => store.admit(`m${i}`, 'q', [concurrency(200)])),
    );
    expect(admissions.map((a) => a.admitted)).toEqual([
      ...Array<boolean>(200).fill(true),
      ...Array<boolean>(100).fill(false),
    ]);
    expect(await redis.zcard(`${prefix}:adm:c:j|conc|`)).toBe(200);
    await Promise.all(admissions.map((a) => (a.admitted ? a.permit?.release() : undefined)));
  });

  describe('a rate limit of at least 100: starts leased to the process', () => {
    it('far above demand: 1,000 runs asked 10 per tick, each admitted, with a call for fewer than half the ticks', async () => {
      const limit = rate(1_000_000, 1_000);
      let admitted = 0;
      for (let tick = 0; tick < 100; tick++) {
        const admissions = await Promise.all(
          Array.from({ length: 10 }, (_, i) => admitRun(store, `t${tick}-${i}`, [limit])),
        );
        admitted += admissions.filter((a) => a.admitted && a.permit === undefined).length;
      }
      expect(admitted).toBe(1_000);
      // NOTE: one call per tick (100) without leases; about 1,000 / 64 with them (18 on a quiet host). A lease lasts
      // 50 ms and its 64 starts go in 7 ticks that make no call, so 40 leaves room for a loaded host.
      expect(scriptCalls).toBeLessThanOrEqual(40);
      // Every start given out is counted in Redis: the log holds at least one entry per run.
      expect(await redis.zcard(`${prefix}:adm:s:j|rate|`)).toBeGreaterThanOrEqual(1_000);
    });

    it('two processes flooding 200 per 500 ms: no 500 ms window holds more than 200 starts', async () => {
      const other = new IORedis(testRedisUrl());
      const second = new BullmqAdmission(() => other, `${prefix}:adm`, 60_000);
      const limit = rate(200, 500);
      // Each start's time lies between the call (lo) and its answer (hi); a leased start's is the call itself.
      const starts: Array<{ lo: number; hi: number }> = [];
      const flood = async (from: BullmqAdmission, name: string) => {
        const until = Date.now() + 1_600;
        for (let tick = 0; Date.now() < until; tick++) {
          await Promise.all(
            Array.from({ length: 10 }, async (_, i) => {
              const lo = Date.now();
              const admission = await admitRun(from, `${name}${tick}-${i}`, [limit]);
              if (admission.admitted) starts.push({ lo, hi: Date.now() });
            }),
          );
        }
      };
      try {
        await Promise.all([flood(store, 'a'), flood(second, 'b')]);
      } finally {
        second.stop();
        await other.quit();
      }
      // The most starts that must lie inside one window (T - 500, T]: those called after T - 500 and answered by T.
      let most = 0;
      for (const { hi: end } of starts)
        most = Math.max(most, starts.filter((s) => s.lo > end - 500 && s.hi <= end).length);
      expect(most).toBeLessThanOrEqual(200);
      // And the limit was used: over 1.6 s at 400/s, well over one window's worth.
      expect(starts.length).toBeGreaterThan(400);
    });
  });

  it('a failed call fails each admission in it, and the next tick is asked again', async () => {
    const broken = new BullmqAdmission(
      () => {
        throw new Error('no connection');
      },
      `${prefix}:adm`,
      60_000,
    );
    const outcomes = await Promise.allSettled([1, 2].map((i) => broken.admit(`f${i}`, 'q', [concurrency(1)])));
    expect(outcomes.map((o) => o.status === 'rejected' && (o.reason as Error).message)).toEqual([
      'no connection',
      'no connection',
    ]);
    const after = await store.admit('after', 'q', [concurrency(1)]);
    expect(after.admitted).toBe(true);
    await (after.admitted ? after.permit?.release() : undefined);
  });
});
