import { JobContext } from './background-job.interface';

/** Wraps every run, innermost in the pipeline (just around `execute`). Call `next()` once and return its result. */
export interface JobInterceptor {
  intercept(ctx: JobContext, next: () => Promise<unknown>): Promise<unknown>;
}
