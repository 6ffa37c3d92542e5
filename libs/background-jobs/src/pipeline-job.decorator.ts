import { SetMetadata } from '@nestjs/common';
import { PIPELINE_JOB_METADATA, PipelineJobOptions } from './contracts';

/**
 * Marks a provider class as a background job. The module discovers it at bootstrap, validates its options
 * (the app refuses to start on a bad one), wraps it in the pipeline and, with `cron`, schedules it.
 * The class must be listed in a module's `providers` and implement `BackgroundJob`.
 */
export function PipelineJob(options: PipelineJobOptions): ClassDecorator {
  return SetMetadata(PIPELINE_JOB_METADATA, options);
}
