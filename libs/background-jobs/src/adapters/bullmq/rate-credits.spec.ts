import { AdmissionCheck } from '../../core';
import { LEASE_MIN_MAX, LEASE_MS, RateCredits } from './rate-credits';

const rate = (id: string, max = 1_000): AdmissionCheck => ({
  id,
  limit: id,
  key: '',
  kind: 'rate',
  max,
  durationMs: 1_000,
});

describe('RateCredits: starts leased to this process', () => {
  let now: number;
  let credits: RateCredits;
  beforeEach(() => {
    now = 1_000;
    credits = new RateCredits(() => now);
  });

  it(`only runs whose every check is a rate limit of at least ${LEASE_MIN_MAX} may take them`, () => {
    expect(RateCredits.leasable([rate('a')])).toBe(true);
    expect(RateCredits.leasable([rate('a'), rate('b', LEASE_MIN_MAX)])).toBe(true);
    expect(RateCredits.leasable([rate('a', LEASE_MIN_MAX - 1)])).toBe(false);
    expect(RateCredits.leasable([rate('a'), { ...rate('c'), kind: 'concurrency', durationMs: undefined }])).toBe(false);
    expect(RateCredits.leasable([])).toBe(false);
  });

  it('asks for as many starts as the key was asked for lately: none for one a while, the burst, at most 64', () => {
    const ask = (...checks: AdmissionCheck[]) => {
      expect(credits.take(checks)).toBe(false); // counts the ask; nothing leased here
      const want = credits.wanted(checks);
      credits.answered(checks);
      return want;
    };
    expect(ask(rate('a'))).toBe(0);
    now += LEASE_MS;
    expect(ask(rate('a'))).toBe(0);
    expect(ask(rate('a'))).toBe(2);
    expect(ask(rate('a'))).toBe(3);
    // The next bucket remembers the last one's 3.
    now += LEASE_MS;
    expect(ask(rate('a'))).toBe(3);
    for (let i = 0; i < 100; i++) ask(rate('a'));
    expect(ask(rate('a'))).toBe(64);
    // A quiet spell of two buckets forgets it.
    now += 3 * LEASE_MS;
    expect(ask(rate('a'))).toBe(0);
    // A run on two keys asks for what the quieter one needs.
    for (let i = 0; i < 10; i++) ask(rate('b'));
    expect(ask(rate('b'), rate('c'))).toBe(0);
  });

  it('asks for one lease of a key at a time: none until the one asked for is answered', () => {
    for (let i = 0; i < 4; i++) credits.take([rate('a')]);
    expect(credits.wanted([rate('a')])).toBe(4);
    expect(credits.wanted([rate('a')])).toBe(0);
    expect(credits.wanted([rate('a'), rate('b')])).toBe(0);
    credits.answered([rate('a')]);
    credits.take([rate('a')]);
    expect(credits.wanted([rate('a')])).toBe(5);
  });

  it('gives out each leased start once, and none once its lease has ended', () => {
    expect(credits.take([rate('a')])).toBe(false);
    credits.keep([rate('a')], 3, now, LEASE_MS);
    expect([1, 2, 3, 4].map(() => credits.take([rate('a')]))).toEqual([true, true, true, false]);
    credits.keep([rate('a')], 5, now, LEASE_MS);
    now += LEASE_MS;
    expect(credits.take([rate('a')])).toBe(false);
  });

  it('asks for the next lease once half of the current one is given out, once per lease, one ask at a time', () => {
    // A busy key: 10 asks in this bucket, then a lease of 8.
    for (let i = 0; i < 10; i++) credits.take([rate('a')]);
    credits.keep([rate('a')], 8, now, LEASE_MS);
    const refills = Array.from({ length: 8 }, () => {
      expect(credits.take([rate('a')])).toBe(true);
      return credits.refill([rate('a')]);
    });
    // Nothing while more than half is left; at half, the key's recent demand (capped at 64); then no second ask.
    expect(refills).toEqual([0, 0, 0, 14, 0, 0, 0, 0]);
    credits.answered([rate('a')]);
    credits.keep([rate('a')], 2, now, LEASE_MS);
    expect(credits.take([rate('a')])).toBe(true);
    expect(credits.refill([rate('a')])).toBe(19);
    // A key asked for once a while gets no lease ahead.
    credits.keep([rate('b')], 2, now, LEASE_MS);
    expect(credits.take([rate('b')])).toBe(true);
    expect(credits.refill([rate('b')])).toBe(0);
  });

  it('takes from every check of a run or from none', () => {
    credits.keep([rate('a')], 1, now, LEASE_MS);
    expect(credits.take([rate('a'), rate('b')])).toBe(false);
    expect(credits.take([rate('a')])).toBe(true);
    credits.keep([rate('a'), rate('b')], 1, now, LEASE_MS);
    expect(credits.take([rate('a'), rate('b')])).toBe(true);
    expect(credits.take([rate('b')])).toBe(false);
  });

  it('uses the lease that ends first, and drops a key held back or overridden', () => {
    credits.keep([rate('a')], 1, now + 10, LEASE_MS);
    credits.keep([rate('a')], 1, now, LEASE_MS);
    now += LEASE_MS + 5; // the second lease has ended, the first not
    expect(credits.take([rate('a')])).toBe(true);
    expect(credits.take([rate('a')])).toBe(false);
    credits.keep([rate('a')], 2, now, LEASE_MS);
    const askedBefore = now;
    now += 1;
    credits.drop('a');
    expect(credits.take([rate('a')])).toBe(false);
    // A lease asked for before the drop and answered after it is not kept; one asked for after it is.
    credits.keep([rate('a')], 2, askedBefore, LEASE_MS);
    expect(credits.take([rate('a')])).toBe(false);
    now += 1;
    credits.keep([rate('a')], 2, now, LEASE_MS);
    expect(credits.take([rate('a')])).toBe(true);
  });
});
