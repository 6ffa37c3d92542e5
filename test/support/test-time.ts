import { TestingModule } from '@nestjs/testing';
import { BackgroundJobsTesting } from 'nestjs-background-jobs';
import { waitFor } from './redis';

/**
 * Time as one app's test sees it: the test clock of an app on it (`startJobsApp({ testClock })`, embedded transport
 * only), otherwise real time. A case written against it runs on every transport, and where the transport has a test
 * clock its absence checks ("nothing runs for 2.5 s") cost no real time and cannot be outrun by a slow host.
 */
export interface TestTime {
  /** True when the app is on the test clock. */
  readonly manual: boolean;
  /** The app's time in ms: the test clock's, or `Date.now()`. */
  now(): number;
  /** Lets `ms` pass: the test clock moves (what falls due on the way runs), or the test waits real time. */
  pass(ms: number): Promise<void>;
  /**
   * Resolves `probe`'s first truthy value within `ms` of the app's time: the test clock moves in steps of `stepMs`
   * until it is (a bound on the clock, not on the host's speed); real time polls with `waitFor`.
   */
  until<T>(what: string, probe: () => T | Promise<T>, ms: number, stepMs?: number): Promise<T>;
}

export function timeOf(app: TestingModule): TestTime {
  const testing = app.get(BackgroundJobsTesting, { strict: false });
  let manual = true;
  try {
    testing.now();
  } catch {
    manual = false;
  }
  if (!manual) {
    return {
      manual,
      now: () => Date.now(),
      pass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      until: (what, probe, ms) => waitFor(what, probe, ms),
    };
  }
  return {
    manual,
    now: () => testing.now().getTime(),
    pass: async (ms) => {
      await testing.advanceBy(ms);
    },
    until: async (what, probe, ms, stepMs = 100) => {
      const deadline = testing.now().getTime() + ms;
      for (;;) {
        const value = await probe();
        if (value) return value;
        const left = deadline - testing.now().getTime();
        // NOTE: a move resolves once what fell due has run; a run enqueued for now goes to a worker at once, so at
        // the clock's deadline the real clock gets the last word: a short poll for a run still in flight.
        if (left <= 0) return waitFor(`${what} (the test clock passed ${ms} ms)`, probe, 1_000, 10);
        await testing.advanceBy(Math.min(stepMs, left));
      }
    },
  };
}
