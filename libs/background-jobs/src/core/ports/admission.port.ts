import { JobWaiting, LimitOverride } from '../../contracts';
import { AdmissionCheck } from '../admission/limit-spec';

/** A run admitted: it holds a slot of each concurrency check until `release` (renewed meanwhile). */
export interface AdmissionPermit {
  /** Frees the slots; never rejects (a failed release is logged and the slot expires by its lease). */
  release(): Promise<void>;
}

/** The answer to "may this run start now": yes (with its permit), or why not and which check refused it. */
export type Admission =
  | { admitted: true; permit: AdmissionPermit | undefined }
  | { admitted: false; refused: AdmissionCheck; waiting: JobWaiting };

/** Wakes a parked run: moves it back to the queue; false when the run is gone (cancelled, removed). */
export type WakeRun = (queue: string, executionId: string) => Promise<boolean>;

/**
 * Admission: every policy that answers "may this run start now, and if not, until when / wake me when" (rate limits,
 * concurrency keys, shared limits, the per-tenant cap of fairness). The pipeline's admission stage asks `admit`; a
 * refused run leaves the pipeline `deferred`, the transport parks it (BullMQ: delayed; embedded: off the queue) and
 * calls `park` for a concurrency refusal, and the store wakes it through `WakeRun` when a slot frees. A rate-limit
 * refusal carries its `until`: the transport parks the run until then and nothing has to wake it. Implemented on
 * Redis (BullMQ transport) and in memory (embedded transport) with the same semantics; see docs/flow-control.md.
 */
export abstract class AdmissionStore {
  /**
   * Admits the run when every check has room (all or nothing, atomically): counts its start in each rate check and
   * takes a slot in each concurrency check. Otherwise nothing is taken and the first refusing check is returned.
   */
  abstract admit(executionId: string, queue: string, checks: AdmissionCheck[]): Promise<Admission>;
  /**
   * Admits the run at once, with no call and no promise, when this process already holds a start for every check (a
   * lease of rate-limit starts); false otherwise, and the caller asks `admit` next, at once. A store that leases
   * nothing answers false.
   */
  admitAtOnce(_checks: readonly AdmissionCheck[]): boolean {
    return false;
  }
  /** Registers a run the transport has parked on a full concurrency check; wakes it at once if a slot freed meanwhile. */
  abstract park(executionId: string, queue: string, check: AdmissionCheck): Promise<void>;
  /** `RateLimitedError(ms)`: every check's key admits no run for `ms`. */
  abstract holdBack(checks: AdmissionCheck[], ms: number): Promise<void>;
  /** `setLimit`: the override of (limit, key) by its check id prefix `scope|name|key`, or null to drop it. */
  abstract setOverride(id: string, override: LimitOverride | null): Promise<void>;
  /** How the transport wakes parked runs; set once at start. */
  abstract wakeWith(wake: WakeRun): void;
}
