import { JobAbortedError, RateLimitedError } from '../../contracts';
import { recognisedFailureKind, toError } from '../failure-classifier';
import { ResolvedJobsOptions } from '../resolved-options';
import { JobRunFailure, RunInterrupted, RunSleeping } from '../run.types';
import { Invocation, PipelineStage } from './pipeline-stage';

/** Turns whatever the run threw into a JobRunFailure with a kind; never swallows it. */
export class ClassifyFailureStage implements PipelineStage {
  constructor(private readonly options: ResolvedJobsOptions) {}

  // NOTE: one `catch` instead of an async function with await (one promise per run, not two: ADR 0005).
  run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    return next().catch((thrown: unknown) => this.classify(invocation, thrown));
  }

  private classify(invocation: Invocation, thrown: unknown): never {
    if (thrown instanceof JobRunFailure || thrown instanceof RunInterrupted) throw thrown;
    const { aborted, reason } = invocation.context.controller;
    // NOTE: not a failure: the admission stage defers the run and holds its keys back.
    if (thrown instanceof RateLimitedError && !aborted) throw thrown;
    // NOTE: not a failure either: the run sleeps and the runner hands it back deferred.
    if (thrown instanceof RunSleeping && !aborted) throw thrown;
    // NOTE: once the signal is aborted, whatever the body throws is a consequence of the abort.
    if (aborted && reason instanceof JobAbortedError) {
      if (reason.kind === 'shutdown') throw new RunInterrupted(reason.message);
      throw new JobRunFailure(reason.kind, reason.message, { cause: thrown });
    }
    const error = toError(thrown);
    const recognised = recognisedFailureKind(thrown, this.options.failureClassifier);
    throw new JobRunFailure(recognised ?? this.options.unknownErrorKind, error.message, {
      cause: error,
      unrecognised: recognised === undefined,
    });
  }
}
