import { Inject, Injectable } from '@nestjs/common';
import { LocalTransport, ManualClock } from './adapters/local';
import { INVALID_TEST_CLOCK_MOVE, JobDefinitionError, JobExecution, NOT_ON_TEST_CLOCK } from './contracts';
import { RunQueue } from './core';

/**
 * Drives a `BackgroundJobsModule.forTest()` app (or a `forRoot` one put on the test clock with
 * `BACKGROUND_JOBS_TEST_CLOCK`) without real waiting. `advanceBy`/`advanceTo` move its clock step by
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
    // NOTE: null when the module runs on real time: every method then says how to put it on the test clock.
    @Inject(ManualClock) private readonly testClock: ManualClock | null,
  ) {}

  /** The test clock's time (starts at `forTest({ now })`, default the real time at boot). */
  now(): Date {
    return new Date(this.clockFor('now').now());
  }

  /**
   * Moves the clock `ms` forward; each cron tick, delayed run and retry due on the way runs at its time. Resolves the
   * executions that finished meanwhile, in order.
   */
  advanceBy(ms: number): Promise<JobExecution[]> {
    if (!this.testClock) return Promise.reject(new JobDefinitionError(NOT_ON_TEST_CLOCK('advanceBy')));
    if (!Number.isFinite(ms) || ms < 0) return Promise.reject(new RangeError(INVALID_TEST_CLOCK_MOVE(ms)));
    return this.moveTo(this.testClock.now() + ms);
  }

  /** Moves the clock to `time` (not backwards), running what falls due on the way at its time; as `advanceBy`. */
  advanceTo(time: Date): Promise<JobExecution[]> {
    if (!this.testClock) return Promise.reject(new JobDefinitionError(NOT_ON_TEST_CLOCK('advanceTo')));
    const target = time instanceof Date ? time.getTime() : NaN;
    if (!Number.isFinite(target) || target < this.testClock.now()) {
      return Promise.reject(new RangeError(INVALID_TEST_CLOCK_MOVE(time, this.now())));
    }
    return this.moveTo(target);
  }

  /**
   * Runs everything due now, delayed runs and retries included (their time is not waited for), until nothing
   * waits or runs; resolves the executions that finished meanwhile, in the order they finished.
   */
  drain(): Promise<JobExecution[]> {
    if (!this.testClock) return Promise.reject(new JobDefinitionError(NOT_ON_TEST_CLOCK('drain')));
    return this.local().drain({ delayed: true });
  }

  private async moveTo(target: number): Promise<JobExecution[]> {
    const finished = await this.local().drain({ delayed: false });
    while (this.clockFor('advanceTo').fireNext(target))
      finished.push(...(await this.local().drain({ delayed: false })));
    return finished;
  }

  private clockFor(method: string): ManualClock {
    if (!this.testClock) throw new JobDefinitionError(NOT_ON_TEST_CLOCK(method));
    return this.testClock;
  }

  private local(): LocalTransport {
    return this.transport as LocalTransport;
  }
}
