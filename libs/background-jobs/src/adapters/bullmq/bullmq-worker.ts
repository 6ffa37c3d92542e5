import { Worker } from 'bullmq';

/**
 * A BullMQ Worker that wakes up on time after a failed blocking read.
 *
 * NOTE: when the blocking read fails (a Redis Cluster failover answers it with `UNBLOCKED … master -> replica`,
 * a Sentinel switch or a reconnect drops it), BullMQ 6 forgets when the next delayed job is due and blocks for
 * its ceiling of 10 s (blockUntil = Infinity): a recurring tick is late by up to 10 s after every failover. The
 * next read after such a failure is capped at 1 s; the one after that is a normal fetch, which learns the due time
 * again. `getBlockTimeout` is BullMQ's protected extension point for exactly this choice.
 */
export class BullmqWorker<DataType = any, ResultType = any, NameType extends string = string> extends Worker<
  DataType,
  ResultType,
  NameType
> {
  protected override getBlockTimeout(blockUntil: number): number {
    return blockUntil === Infinity ? Math.min(1, super.getBlockTimeout(0)) : super.getBlockTimeout(blockUntil);
  }
}
