import { JobContext, JobInterceptor } from 'nestjs-background-jobs';

/**
 * Writes each run's start and outcome into the run's own log and reports its progress (0 %, then 100 % when it
 * completed), so the dashboard's run page shows what a run of the six jobs did without changing the jobs.
 */
export class RunLogInterceptor implements JobInterceptor {
  async intercept(ctx: JobContext, next: () => Promise<unknown>): Promise<unknown> {
    await ctx.reportProgress(
      0,
      `attempt ${ctx.attempt} started${ctx.tenantId === null ? '' : ` for tenant ${ctx.tenantId}`}`,
    );
    const result = await next();
    await ctx.reportProgress(100, `completed: ${JSON.stringify(result) ?? 'no result'}`);
    return result;
  }
}
