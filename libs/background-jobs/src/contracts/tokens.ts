/** Metadata key under which `@PipelineJob()` stores its options. */
export const PIPELINE_JOB_METADATA = 'background-jobs:pipeline_job';

/** Default BullMQ queue name for jobs that do not name one. */
export const DEFAULT_QUEUE = 'background-jobs';

/** Metadata key under which `@OnJobEvent()` stores the event names of a method. */
export const ON_JOB_EVENT_METADATA = 'background-jobs:on_job_event';

/**
 * Puts a `forRoot`/`forRootAsync` registration on the test clock, so a test can run the host's real `AppModule`:
 * `Test.createTestingModule({ imports: [AppModule] }).overrideProvider(BACKGROUND_JOBS_TEST_CLOCK).useValue({ now })`.
 * The module then runs on the embedded transport (the configured one is never connected) with every other option
 * kept, and `BackgroundJobsTesting` drives it, as under `forTest()`. Its value is a `BackgroundJobsTestClock`; `null`
 * (the default) is real time.
 */
export const BACKGROUND_JOBS_TEST_CLOCK = Symbol('BACKGROUND_JOBS_TEST_CLOCK');
