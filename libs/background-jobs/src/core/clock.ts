/**
 * The time `enqueue({ runAt })` is measured against: the system's, or under `BackgroundJobsModule.forTest()` the
 * test clock, so a `runAt` in a test means the test's time.
 */
export abstract class Clock {
  abstract now(): number;
}

/** The real time. */
export const SYSTEM_TIME: Clock = { now: () => Date.now() };
