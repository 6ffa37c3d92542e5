import { Lease } from '../../contracts';
import { CompletionChannel } from './completion-channel.port';

/**
 * A lease that reports its loss to a listener, so that watching it makes no AbortSignal (the built-in locks' leases;
 * their `signal` is made only when read). An AbortSignal per lease was a measurable part of a locked run's cost.
 */
export interface LossReportingLease extends Lease {
  /** Calls `listener` with the abort reason once the lease is lost; returns the function that unsubscribes it. */
  onLost(listener: (reason: unknown) => void): () => void;
}

/**
 * A lease that can send its release on the connection the transport records the run's outcome on
 * (`RunRequest.completionChannel`), ahead of that record: the store applies the two in the order they were sent, so
 * the next run of the key, which only that record can start, finds the key free without the run waiting for the
 * release's reply. One round trip less per locked run (ADR 0005).
 */
export interface AheadReleasingLease extends Lease {
  /**
   * Sends the release on `channel` and returns true, or returns false and sends nothing when it cannot be ordered
   * there (another server, a cluster, the connection not ready): the caller then releases and waits as usual. A
   * release sent ahead that fails is retried on the lock's own connection; `onError` hears only when that fails too.
   */
  releaseAhead(channel: CompletionChannel, onError: (error: Error) => void): boolean;
}
