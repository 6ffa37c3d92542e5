import { Lease } from '../../contracts';

/**
 * A lease that reports its loss to a listener, so that watching it makes no AbortSignal (the built-in locks' leases;
 * their `signal` is made only when read). An AbortSignal per lease was a measurable part of a locked run's cost.
 */
export interface LossReportingLease extends Lease {
  /** Calls `listener` with the abort reason once the lease is lost; returns the function that unsubscribes it. */
  onLost(listener: (reason: unknown) => void): () => void;
}
