/**
 * Where a transport records a run's outcome, as the run's lease sees it: a lease of the same store may send its
 * release there, ahead of that record (`AheadReleasingLease`), so the next run of the key finds it free without the
 * run waiting for the release's reply. Core only carries it from the transport to the lease: the transport makes it
 * (BullMQ: the worker's connection) and a lock adapter sharing that store reads `connection`; any other lease ignores
 * it.
 */
export interface CompletionChannel {
  /** The transport's connection to its store, opaque to core. */
  readonly connection: unknown;
}
