import { Injectable } from '@nestjs/common';
import { AdmissionCheck } from './limit-spec';

/** What one key of a limit did on this instance: runs admitted, runs held back, runs running with its slot. */
export interface LimitTally {
  admitted: number;
  held: number;
  inUse: number;
}

/** Keys tracked per limit; the keys beyond count under `OTHERS` (memory stays bounded whatever the key space). */
const TRACKED_KEYS = 1_000;
/** The label of the keys summed together. */
export const OTHER_KEYS = '(others)';
/** The label of the key `'job'` (and of host-level runs keyed by tenant). */
export const WHOLE_KEY = '(all)';

/**
 * Admission counts of this instance per limit and key, for the metrics: bounded like the tenant backlog (the top
 * keys by activity, the rest summed), so a limit keyed by millions of API keys still gives a handful of series.
 */
@Injectable()
export class AdmissionTallies {
  private readonly limits = new Map<string, Map<string, LimitTally>>();

  admitted(checks: readonly AdmissionCheck[]): void {
    for (const check of checks) this.tally(check).admitted += 1;
  }

  held(check: AdmissionCheck): void {
    this.tally(check).held += 1;
  }

  /** A run took (`1`) or gave back (`-1`) its slots of these checks. */
  inUse(checks: readonly AdmissionCheck[], delta: 1 | -1): void {
    for (const check of checks) if (check.kind === 'concurrency') this.tally(check).inUse += delta;
  }

  /** Per limit: the `top` keys with the most admitted + held + in use, and the rest summed under `(others)`. */
  top(top: number): Array<{ limit: string; key: string; tally: LimitTally }> {
    const rows: Array<{ limit: string; key: string; tally: LimitTally }> = [];
    for (const [limit, keys] of this.limits) {
      const sorted = [...keys].sort((a, b) => weight(b[1]) - weight(a[1]));
      const others: LimitTally = { admitted: 0, held: 0, inUse: 0 };
      sorted.forEach(([key, tally], i) => {
        if (i < top && key !== OTHER_KEYS) rows.push({ limit, key, tally });
        else {
          others.admitted += tally.admitted;
          others.held += tally.held;
          others.inUse += tally.inUse;
        }
      });
      if (weight(others) > 0) rows.push({ limit, key: OTHER_KEYS, tally: others });
    }
    return rows;
  }

  private tally(check: AdmissionCheck): LimitTally {
    let keys = this.limits.get(check.limit);
    if (!keys) this.limits.set(check.limit, (keys = new Map()));
    let key = check.key === '' ? WHOLE_KEY : check.key;
    if (!keys.has(key) && keys.size >= TRACKED_KEYS) key = OTHER_KEYS;
    let tally = keys.get(key);
    if (!tally) keys.set(key, (tally = { admitted: 0, held: 0, inUse: 0 }));
    return tally;
  }
}

const weight = (tally: LimitTally): number => tally.admitted + tally.held + Math.abs(tally.inUse);
