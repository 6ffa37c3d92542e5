import { Logger } from '@nestjs/common';
import { RateLimitedError } from '../../contracts';
import { admissionChecks } from '../admission/admission-checks';
import { AdmissionCheck, waitingOf } from '../admission/limit-spec';
import { AdmissionTallies } from '../admission/admission-tallies';
import { Clock } from '../clock';
import { JobDefinition } from '../job-definition';
import { fansOut, RunKind } from '../run-kind';
import { AdmissionStore } from '../ports/admission.port';
import { DeferRun } from '../run.types';
import { Invocation, PipelineStage } from './pipeline-stage';

/**
 * Admission, before the observe stage: a run its limits hold back leaves the pipeline `deferred` without a `started`
 * event and without using an attempt; an admitted run holds its concurrency slots until it ends. A `RateLimitedError`
 * thrown by the job holds back every key it counts against for `retryAfterMs` and defers the run, which then uses no
 * attempt either.
 */
export class AdmissionStage implements PipelineStage {
  private readonly logger = new Logger('BackgroundJobs');

  constructor(
    private readonly store: AdmissionStore,
    private readonly clock: Clock,
    private readonly tallies?: AdmissionTallies,
  ) {}

  /** A fan-out only enqueues its children (each is admitted on its own). */
  appliesTo(_definition: JobDefinition, kind: RunKind): boolean {
    return !fansOut(kind);
  }

  run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { definition, request } = invocation;
    const checks = admissionChecks(definition, request);
    const rateLimited = (error: unknown) => this.rateLimited(error, checks);
    if (checks.length === 0) return next().then(undefined, rateLimited);
    // NOTE: a start this process leased admits with no call and no promise of its own (a limit far above the traffic).
    if (this.store.admitAtOnce(checks)) {
      this.tallies?.admitted(checks);
      return next().then(undefined, rateLimited);
    }
    return this.store.admit(request.executionId, definition.queue, checks).then((admission) => {
      if (!admission.admitted) {
        const { refused, waiting } = admission;
        this.tallies?.held(refused);
        // NOTE: only a refusal without a time waits for a slot; one with a time parks until then.
        return new DeferRun(waiting, waiting.until ? undefined : refused);
      }
      const { permit } = admission;
      this.tallies?.admitted(checks);
      if (!permit) return next().then(undefined, rateLimited);
      this.tallies?.inUse(checks, 1);
      const release = () => {
        this.tallies?.inUse(checks, -1);
        return permit.release();
      };
      // NOTE: the slots are freed before the run's outcome is recorded, so the run the release wakes finds them free.
      return next().then(
        (result) => release().then(() => result),
        (error: unknown) => release().then(() => rateLimited(error)),
      );
    });
  }

  private rateLimited(error: unknown, checks: AdmissionCheck[]): Promise<DeferRun> {
    if (!(error instanceof RateLimitedError)) return Promise.reject(error);
    const ms = Math.max(1, Math.ceil(Number(error.retryAfterMs) || 0));
    const until = new Date(this.clock.now() + ms);
    const waiting = checks.length > 0 ? waitingOf(checks[0], until) : { reason: 'rate-limit' as const, until };
    waiting.reason = 'rate-limit';
    const held = checks.length > 0 ? this.store.holdBack(checks, ms) : Promise.resolve();
    return held.then(
      () => new DeferRun(waiting),
      (failure: Error) => {
        this.logger.warn(`Holding back the keys of a rate-limited run failed: ${failure.message}`);
        return new DeferRun(waiting);
      },
    );
  }
}
