import { WakeRun } from './admission.port';

/**
 * Continuations (`enqueue(B, data, { after })`): which runs wait on which. `wait` registers B's dependencies that have
 * not ended before B is enqueued; the transport calls `ended(X)` once X's final state is recorded, which takes X out
 * of every dependent's set and wakes the dependents whose set it emptied (the last dependency to end wakes B). A
 * dependent taken before that is deferred by the dependencies stage, parked by the transport, which then calls `park`
 * (it wakes the run at once when its last dependency ended meanwhile, so no wake is lost). Redis on BullMQ, memory on
 * the embedded transport; see docs/composition.md.
 */
export abstract class DependencyStore {
  /** Registers `dependentId`'s dependencies (those not ended yet) before the dependent is enqueued. */
  abstract wait(dependentId: string, queue: string, dependencyIds: string[]): Promise<void>;
  /** How many of the dependent's dependencies have not ended yet. */
  abstract pending(dependentId: string): Promise<number>;
  /** One execution's final state is recorded: wakes the dependents it was the last pending dependency of. */
  abstract ended(executionId: string): Promise<void>;
  /** The dependent found all its dependencies ended by their records: drops what the store still keeps for it. */
  abstract forget(dependentId: string): Promise<void>;
  /** The transport has parked the dependent: wakes it at once when nothing is pending any more. */
  abstract park(dependentId: string, queue: string): Promise<void>;
  /** How the transport wakes parked runs; set once at start. */
  abstract wakeWith(wake: WakeRun): void;
}
