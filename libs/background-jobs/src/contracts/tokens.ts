/** Metadata key under which `@PipelineJob()` stores its options. */
export const PIPELINE_JOB_METADATA = 'background-jobs:pipeline_job';

/** Default BullMQ queue name for jobs that do not name one. */
export const DEFAULT_QUEUE = 'background-jobs';

/** Metadata key under which `@OnJobEvent()` stores the event names of a method. */
export const ON_JOB_EVENT_METADATA = 'background-jobs:on_job_event';
