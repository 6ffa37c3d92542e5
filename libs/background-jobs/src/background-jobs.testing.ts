import { Injectable } from '@nestjs/common';
import { LocalTransport, ManualClock } from './adapters/local';
import { INVALID_TEST_CLOCK_MOVE, JobExecution } from './contracts';
import { RunQueue } from './core';

/**
 * Drives a `BackgroundJobsModule.forTest()` app without real waiting. `advanceBy`/`advanceTo` move its clock step by
 * step: at each cron tick, delay or retry that falls due on the way, the clock stops there and what is due runs, as it
 * would at that time. `drain()` runs everything due now, delayed runs and retries included, until nothing waits or runs.
 *
 * @example
 * ```ts
 * const runs = await testing.advanceBy(60_000); // the ticks of the next minute, each run at its time
 * const rest = await testing.drain();           // and whatever is still delayed, now
 * ```
 */
@Injectable()
export class BackgroundJobsTesting {
  constructor(
    private readonly transport: RunQueue,
    private readonly clock: ManualClock,
  ) {}

  /** The test clock's time (starts at `forTest({ now })`, default the real time at boot). */
  now(): Date {
    return new Date(this.clock.now());
  }

  /**
   * Moves the clock `ms` forward; each cron tick, delayed run and retry due on the way runs at its time. Resolves the
   * executions that finished meanwhile, in order.
   */
  advanceBy(ms: number): Promise<JobExecution[]> {
    if (!Number.isFinite(ms) || ms < 0) return Promise.reject(new RangeError(INVALID_TEST_CLOCK_MOVE(ms)));
    return this.moveTo(this.clock.now() + ms);
  }

  /** Moves the clock to `time` (not backwards), running what falls due on the way at its time; as `advanceBy`. */
  advanceTo(time: Date): Promise<JobExecution[]> {
    const target = time instanceof Date ? time.getTime() : NaN;
    if (!Number.isFinite(target) || target < this.clock.now()) {
      return Promise.reject(new RangeError(INVALID_TEST_CLOCK_MOVE(time, this.now())));
    }
    return this.moveTo(target);
  }

  /**
   * Runs everything due now, delayed runs and retries included (their time is not waited for), until nothing
   * waits or runs; resolves the executions that finished meanwhile, in the order they finished.
   */
  drain(): Promise<JobExecution[]> {
    return this.local().drain({ delayed: true });
  }

  private async moveTo(target: number): Promise<JobExecution[]> {
    const finished = await this.local().drain({ delayed: false });
    while (this.clock.fireNext(target)) finished.push(...(await this.local().drain({ delayed: false })));
    return finished;
  }

  private local(): LocalTransport {
    return this.transport as LocalTransport;
  }
}
