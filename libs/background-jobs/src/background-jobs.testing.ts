import { Injectable } from '@nestjs/common';
import { LocalTransport, ManualClock } from './adapters/local';
import { INVALID_TEST_CLOCK_MOVE, JobExecution } from './contracts';
import { JobTransport } from './core';

/**
 * Drives a `BackgroundJobsModule.forTest()` app without real waiting: `advanceBy`/`advanceTo` move its clock (cron
 * ticks, delays and retries that fall due in between are queued, each at its own time), and `drain()` runs
 * everything due now, delayed runs and retries included, until nothing waits or runs.
 *
 * @example
 * ```ts
 * await testing.advanceBy(60_000);          // the ticks of the next minute are queued
 * const runs = await testing.drain();       // and run; resolves the finished executions
 * ```
 */
@Injectable()
export class BackgroundJobsTesting {
  constructor(
    private readonly transport: JobTransport,
    private readonly clock: ManualClock,
  ) {}

  /** The test clock's time (starts at `forTest({ now })`, default the real time at boot). */
  now(): Date {
    return new Date(this.clock.now());
  }

  /** Moves the clock `ms` forward, queueing the cron ticks, delayed runs and retries due by then. Nothing runs yet: `drain()`. */
  async advanceBy(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(INVALID_TEST_CLOCK_MOVE(ms));
    this.clock.advanceTo(this.clock.now() + ms);
  }

  /** Moves the clock to `time` (not backwards), queueing what falls due by then. */
  async advanceTo(time: Date): Promise<void> {
    const target = time instanceof Date ? time.getTime() : NaN;
    if (!Number.isFinite(target) || target < this.clock.now()) throw new RangeError(INVALID_TEST_CLOCK_MOVE(time, this.now()));
    this.clock.advanceTo(target);
  }

  /**
   * Runs everything due now, delayed runs and retries included (their time is not waited for), until nothing
   * waits or runs; resolves the executions that finished meanwhile, in the order they finished.
   */
  drain(): Promise<JobExecution[]> {
    return (this.transport as LocalTransport).drain();
  }
}
