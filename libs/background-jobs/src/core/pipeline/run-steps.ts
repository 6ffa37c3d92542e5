import {
  INVALID_SLEEP,
  INVALID_STEP_NAME,
  InvalidStepError,
  JobStep,
  STEP_NAME_REUSED,
  STEP_RESULT_TOO_LARGE,
} from '../../contracts';
import { toError } from '../failure-classifier';
import { payloadProblem } from '../payload';
import { RunSleeping, RunStepStore, StepRecord } from '../run.types';

/** Told of each step that ended: its name, how, and how long `fn` took (0 when reused). */
export type StepListener = (name: string, state: 'completed' | 'failed' | 'reused', durationMs: number) => void;

const MAX_STEP_NAME = 200;

/**
 * `ctx.step` of one attempt: a step kept by an earlier attempt returns its kept result without calling `fn`; any
 * other runs `fn`, and its result is stored on the run before it is handed back, so a crash after that point
 * never runs it again. The result is handed back as JSON would carry it, the same on the first run as on a reuse.
 */
export class RunSteps {
  private readonly used = new Set<string>();
  /** Sleeps called so far in this attempt: the n-th sleep is kept as step `@sleep:n`. */
  private sleeps = 0;
  private readonly store: RunStepStore;

  constructor(
    private readonly jobId: string,
    private readonly executionId: string,
    store: RunStepStore | undefined,
    private readonly maxBytes: number,
    private readonly now: () => number,
    private readonly listener?: StepListener,
  ) {
    // NOTE: a direct pipeline call (no transport) keeps steps for this attempt only: there is no later one.
    this.store = store ?? { kept: {}, save: async () => undefined };
  }

  async step<R>(name: string, fn: () => R | Promise<R>): Promise<R> {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_STEP_NAME) {
      throw new InvalidStepError(INVALID_STEP_NAME(this.jobId, name));
    }
    if (this.used.has(name)) throw new InvalidStepError(STEP_NAME_REUSED(this.jobId, this.executionId, name));
    this.used.add(name);
    const kept = this.store.kept[name];
    if (kept?.state === 'completed') {
      this.listener?.(name, 'reused', 0);
      return kept.result as R;
    }
    const startedAt = this.now();
    let value: R;
    try {
      value = await fn();
    } catch (error) {
      const finishedAt = this.now();
      const record: StepRecord = { state: 'failed', startedAt, finishedAt, error: toError(error).message };
      // NOTE: the step's own error is what the run fails with; a failure to record it must not replace it.
      await this.store.save(name, record).catch(() => undefined);
      this.listener?.(name, 'failed', finishedAt - startedAt);
      throw error;
    }
    const { problem } = payloadProblem(value, this.maxBytes);
    if (problem) throw new InvalidStepError(STEP_RESULT_TOO_LARGE(this.jobId, name, problem));
    const result = value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as R);
    const finishedAt = this.now();
    const record: StepRecord = { state: 'completed', startedAt, finishedAt };
    if (result !== undefined) record.result = result;
    await this.store.save(name, record);
    this.listener?.(name, 'completed', finishedAt - startedAt);
    return result as R;
  }

  /**
   * `ctx.sleep(ms)` / `ctx.sleepUntil(date)`: kept like a step whose result is the wake time, so the run resumed at
   * that time passes it (the wake time is fixed when the sleep is first reached, not when it is reached again).
   * Before the wake time it throws `RunSleeping`, which the runner hands back as a deferred run.
   */
  async sleep(call: 'sleep' | 'sleepUntil', value: unknown): Promise<void> {
    const wakeAt = wakeTimeOf(call, value, this.now());
    if (wakeAt === undefined) throw new InvalidStepError(INVALID_SLEEP(this.jobId, call, value));
    this.sleeps += 1;
    const name = `@sleep:${this.sleeps}`;
    this.used.add(name);
    const kept = this.store.kept[name];
    const now = this.now();
    if (kept?.state === 'completed' && typeof kept.result === 'number') {
      if (kept.result <= now) return;
      throw new RunSleeping(new Date(kept.result));
    }
    if (wakeAt <= now) return;
    await this.store.save(name, { state: 'completed', startedAt: now, finishedAt: wakeAt, result: wakeAt });
    throw new RunSleeping(new Date(wakeAt));
  }
}

/** The wake time (ms) of a sleep call; undefined when its argument is not valid. */
function wakeTimeOf(call: 'sleep' | 'sleepUntil', value: unknown, now: number): number | undefined {
  if (call === 'sleep')
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? now + value : undefined;
  const time = value instanceof Date ? value.getTime() : NaN;
  return Number.isNaN(time) ? undefined : time;
}

/** A run's kept steps as its record shows them, in the order they first ran. */
export function stepList(kept: Readonly<Record<string, StepRecord>> | undefined): JobStep[] | undefined {
  if (!kept) return undefined;
  const steps = Object.entries(kept).map(([name, record]) => {
    const step: JobStep = {
      name,
      state: record.state,
      startedAt: new Date(record.startedAt),
      finishedAt: new Date(record.finishedAt),
      durationMs: record.finishedAt - record.startedAt,
    };
    if (record.error !== undefined) step.error = record.error;
    return step;
  });
  return steps.length ? steps.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime()) : undefined;
}
