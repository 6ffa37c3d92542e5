import { Logger } from '@nestjs/common';
import { isFinalState } from '../../contracts';
import { RunOutcome } from '../../core';
import { InMemoryAdmission } from './in-memory.admission';
import { LocalDependencies } from './local-dependencies';
import { LocalRun } from './local-run';
import { LocalClock } from './manual-clock';

/**
 * The embedded transport's runs that wait off the line: delayed (a delay, a retry's backoff) on the clock, or held
 * back by admission: parked until their window opens, or until the admission store wakes them when a slot frees; or
 * continuations parked until the dependency store wakes them when their last dependency ends.
 */
export class LocalParking {
  private readonly logger = new Logger('BackgroundJobs');
  readonly admission: InMemoryAdmission;
  /** Continuations waiting for their dependencies: parked here until the last one ends. */
  readonly dependencies = new LocalDependencies();

  constructor(
    private readonly clock: LocalClock,
    private readonly runs: Map<string, LocalRun>,
    /** Puts a woken run back on the line and starts what may start; false while the transport closes. */
    private readonly ready: (run: LocalRun) => boolean,
    private readonly changed: (run: LocalRun) => void,
  ) {
    this.admission = new InMemoryAdmission(() => clock.now());
    this.admission.wakeWith(async (_queue, executionId) => this.wake(executionId));
    this.dependencies.wakeWith(async (_queue, executionId) => this.wake(executionId));
  }

  delay(run: LocalRun, ms: number): void {
    run.state = 'delayed';
    run.dueAt = this.clock.now() + ms;
    run.timer = this.clock.setTimer(() => {
      run.timer = undefined;
      this.wake(run.id);
    }, ms);
  }

  /** A parked or delayed run goes back to the waiting line; false when it is gone or finished. */
  wake(executionId: string): boolean {
    const run = this.runs.get(executionId);
    if (!run || isFinalState(run.state)) return false;
    if (run.state !== 'delayed') return true;
    if (run.timer) this.clock.clearTimer(run.timer);
    run.timer = undefined;
    run.state = 'pending';
    this.ready(run);
    return true;
  }

  /** Admission held the run back: parked until its `until`, or until the store wakes it (no attempt used). */
  defer(run: LocalRun, outcome: Extract<RunOutcome, { status: 'deferred' }>): void {
    run.waiting = outcome.waiting;
    const until = outcome.waiting.until?.getTime();
    if (until !== undefined) this.delay(run, Math.max(0, until - this.clock.now()));
    else run.state = 'delayed';
    this.changed(run);
    if (outcome.waiting.reason === 'dependencies') void this.dependencies.park(run.id, run.definition.queue);
    if (outcome.parkOn) {
      this.admission
        .park(run.id, run.definition.queue, outcome.parkOn)
        .catch((error: Error) => this.logger.warn(`Parking run ${run.id} failed: ${error.message}`));
    }
  }
}
