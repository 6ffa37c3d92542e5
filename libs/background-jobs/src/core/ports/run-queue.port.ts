import { JobDefinition } from '../job-definition';
import { JobRegistry } from '../job-registry';
import { IdentifiedRun, OutgoingRun, RunHandler, TransportHealth } from './transport.types';

/**
 * Running work: where runs are queued and taken by workers. The transport's lifecycle hangs on it: `close`
 * stops the whole transport (schedules, workers, connections).
 */
export abstract class RunQueue {
  /** Unless producer-only, starts taking work; every run goes through `run`. */
  abstract start(registry: JobRegistry, run: RunHandler): Promise<void>;
  /** Queues one run; resolves its execution id. */
  abstract enqueue(definition: JobDefinition, run: OutgoingRun): Promise<string>;
  /** Queues many runs in one round trip where the transport can; ids already present are not added again. */
  abstract enqueueMany(definition: JobDefinition, runs: IdentifiedRun[]): Promise<string[]>;
  /** Removes a waiting run or aborts a running one, on any instance; false for unknown or finished ids. */
  abstract cancel(executionId: string): Promise<boolean>;
  /**
   * A tenant's shares of the round robin of a queue's fair runs (`setLimit`'s weight; null: one share), kept where
   * every instance's next ordering decision reads it.
   */
  abstract setTenantWeight(queue: string, tenantId: string | null, weight: number | null): Promise<void>;
  abstract health(): Promise<TransportHealth>;
  /** Stops taking work and closes every connection of the transport; safe to call twice. */
  abstract close(): Promise<void>;
}
