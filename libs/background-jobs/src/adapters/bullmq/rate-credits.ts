import { AdmissionCheck } from '../../core';

/** How long a leased start may be given out after the call that leased it was sent (at most a twentieth of a window). */
export const LEASE_MS = 50;
/** Only rate limits of at least this many starts per window lease: below it every start is one call, as before. */
export const LEASE_MIN_MAX = 100;
/** Most starts one admission leases beyond its own. */
const MAX_LEASE = 64;
/** Check ids tracked; beyond it the tables are cleared (a key space of millions keeps memory bounded). */
const MAX_TRACKED = 10_000;

interface Lease {
  left: number;
  /** Starts it was granted: the next lease is asked for when half of them are given out (`refill`). */
  granted: number;
  /** Whether the next lease was asked for from this one. */
  refilled: boolean;
  /** `now()` after which none of it may be given out. */
  until: number;
}

/** Admissions asked for per check id, in LEASE_MS buckets: how many starts a lease asks for. */
interface Demand {
  since: number;
  asked: number;
  previous: number;
}

/**
 * Starts of rate limits that admit-1.lua leased to this process: a run whose every check is a rate limit of at least
 * LEASE_MIN_MAX, on a key this process asks for at least twice per LEASE_MS, asks Redis for up to 64 starts beyond
 * its own; the runs after it take one each here, with no call, until the lease ends LEASE_MS after its call was sent.
 * Redis counts each leased start at the latest time it may be used and grants only while the window is at most half
 * full, so no window of actual starts holds more than `max` (docs/flow-control.md, "Credits"). A start leased and not
 * used stays counted until its window passes; a lease asks for no more starts than the process asked for on that key
 * in the last LEASE_MS, so what goes unused is about one such burst.
 */
export class RateCredits {
  private readonly leases = new Map<string, Lease[]>();
  private readonly demand = new Map<string, Demand>();
  /** When each dropped check id was dropped: a lease asked for before that is not kept. */
  private readonly dropped = new Map<string, number>();
  /** Check ids with a lease asked for and not yet answered: one ask per key at a time. */
  private readonly asking = new Set<string>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** This table's clock (monotonic ms): when a call that may lease is sent. */
  stamp(): number {
    return this.now();
  }

  /** Whether a run with these checks may take leased starts: every check a rate limit of at least LEASE_MIN_MAX. */
  static leasable(checks: readonly AdmissionCheck[]): boolean {
    return checks.length > 0 && checks.every((check) => check.kind === 'rate' && check.max >= LEASE_MIN_MAX);
  }

  /**
   * The starts to lease beyond its own for a run `take` found none for (0: none, and none while a lease of one of its
   * checks is being asked for already). A lease asked for is `answered` when its call returns or fails.
   */
  wanted(checks: readonly AdmissionCheck[]): number {
    let want = MAX_LEASE;
    for (const check of checks) {
      const demand = this.demand.get(check.id);
      want = Math.min(want, demand ? Math.max(demand.asked, demand.previous) : 0);
    }
    if (want < 2 || checks.some((check) => this.asking.has(check.id))) return 0;
    for (const check of checks) this.asking.add(check.id);
    return want;
  }

  /** The call that asked for a lease of these checks returned (with `keep` next) or failed. */
  answered(checks: readonly AdmissionCheck[]): void {
    for (const check of checks) this.asking.delete(check.id);
  }

  /** Counts an admission asked for on these checks and takes one leased start of each, or none when one has none. */
  take(checks: readonly AdmissionCheck[]): boolean {
    const now = this.now();
    this.count(checks, now);
    const from: Lease[] = [];
    for (const check of checks) {
      const leases = this.leases.get(check.id);
      while (leases && leases.length > 0 && (leases[0].left <= 0 || leases[0].until <= now)) leases.shift();
      if (!leases || leases.length === 0) {
        this.leases.delete(check.id);
        return false;
      }
      from.push(leases[0]);
    }
    for (const lease of from) lease.left -= 1;
    return true;
  }

  /**
   * After `take` gave a run leased starts: the starts to lease ahead, with no run of its own, when the lease of some
   * check is half given out (0: none, or one is being asked for already). Asked for while half the lease is left, the
   * next lease is back before this one runs out, so the runs of a busy key do not go to Redis one by one meanwhile.
   */
  refill(checks: readonly AdmissionCheck[]): number {
    let low: Lease | undefined;
    for (const check of checks) {
      const lease = this.leases.get(check.id)?.[0];
      if (lease && !lease.refilled && lease.left <= lease.granted / 2) low = lease;
    }
    if (!low) return 0;
    const want = this.wanted(checks);
    if (want > 0) low.refilled = true;
    return want;
  }

  /** Keeps `granted` leased starts of each check, to give out until `ms` after `sentAt`. */
  keep(checks: readonly AdmissionCheck[], granted: number, sentAt: number, ms: number): void {
    if (granted <= 0) return;
    if (this.leases.size > MAX_TRACKED) this.leases.clear();
    for (const check of checks) {
      const dropped = this.dropped.get(check.id);
      if (dropped !== undefined && dropped >= sentAt) continue;
      let leases = this.leases.get(check.id);
      if (!leases) this.leases.set(check.id, (leases = []));
      leases.push({ left: granted, granted, until: sentAt + ms, refilled: false });
      leases.sort((a, b) => a.until - b.until);
    }
  }

  private count(checks: readonly AdmissionCheck[], now: number): void {
    if (this.demand.size > MAX_TRACKED) this.demand.clear();
    for (const check of checks) {
      let demand = this.demand.get(check.id);
      if (!demand) this.demand.set(check.id, (demand = { since: now, asked: 0, previous: 0 }));
      if (now - demand.since >= LEASE_MS) {
        demand.previous = now - demand.since < 2 * LEASE_MS ? demand.asked : 0;
        demand.asked = 0;
        demand.since = now;
      }
      demand.asked += 1;
    }
  }

  /**
   * Drops the leased starts of one check (held back by RateLimitedError, or its limit overridden), and any lease of it
   * asked for before now and answered later.
   */
  drop(checkId: string): void {
    this.leases.delete(checkId);
    if (this.dropped.size > MAX_TRACKED) this.dropped.clear();
    this.dropped.set(checkId, this.now());
  }
}
