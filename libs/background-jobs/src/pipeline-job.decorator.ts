import { SetMetadata } from '@nestjs/common';
import { JobClass, PIPELINE_JOB_METADATA, PipelineJobOptions } from './contracts';
import { recordDecoratedJob } from './pipeline-job-metadata.accessor';

/**
 * Marks a provider class as a background job. The module discovers it at bootstrap, validates its options
 * (the app refuses to start on a bad one), wraps it in the pipeline and, with `cron`, schedules it.
 * The class must be listed in a module's `providers` and have `execute(ctx)` (implement `BackgroundJob`): a class
 * without it does not compile.
 */
export function PipelineJob(options: PipelineJobOptions): <TClass extends JobClass>(target: TClass) => void {
  const decorate = SetMetadata(PIPELINE_JOB_METADATA, options);
  return (target) => {
    decorate(target as unknown as Function);
    recordDecoratedJob(target);
  };
}
