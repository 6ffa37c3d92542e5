// A job that reads ctx.data cannot be enqueued or run without its payload (compiled by
// test/architecture/type-tests.spec.ts): each `@ts-expect-error` line is a call the types must reject.
import { BackgroundJob, BackgroundJobs, JobContext, PipelineJob } from 'nestjs-background-jobs';

@PipelineJob({ id: 'send-report' })
class SendReportJob implements BackgroundJob<{ reportId: number }, string> {
  execute(ctx: JobContext<{ reportId: number }>): string {
    return `report ${ctx.data.reportId} sent`;
  }
}

@PipelineJob({ id: 'nightly', cron: '0 3 * * *' })
class NightlyJob implements BackgroundJob<void> {
  execute(): void {}
}

// An optional payload: the job handles its absence, so callers may leave it out.
@PipelineJob({ id: 'rebuild-index' })
class RebuildIndexJob implements BackgroundJob<{ full: boolean } | undefined> {
  execute(ctx: JobContext<{ full: boolean } | undefined>): boolean {
    return ctx.data?.full ?? false;
  }
}

// Typed only by its execute signature, which takes no context.
@PipelineJob({ id: 'ping' })
class PingJob {
  execute(): string {
    return 'pong';
  }
}

export async function payloads(jobs: BackgroundJobs): Promise<void> {
  // enqueue: a required payload must be given.
  await jobs.enqueue(SendReportJob, { reportId: 1 });
  await jobs.enqueue(SendReportJob, { reportId: 1 }, { delayMs: 1_000 });
  // @ts-expect-error SendReportJob reads ctx.data.reportId: enqueue without the payload does not compile
  await jobs.enqueue(SendReportJob);
  // @ts-expect-error an explicit undefined is no payload either
  await jobs.enqueue(SendReportJob, undefined);
  // @ts-expect-error the options do not stand in for the payload
  await jobs.enqueue(SendReportJob, undefined, { delayMs: 1_000 });

  // runNow: data is required in the options.
  await jobs.runNow(SendReportJob, { data: { reportId: 1 } });
  await jobs.runNow(SendReportJob, { data: { reportId: 1 }, waitTimeoutMs: 5_000 });
  // @ts-expect-error runNow without options runs SendReportJob without its payload
  await jobs.runNow(SendReportJob);
  // @ts-expect-error options without data
  await jobs.runNow(SendReportJob, { waitTimeoutMs: 5_000 });
  // @ts-expect-error data: undefined is no payload
  await jobs.runNow(SendReportJob, { data: undefined });

  // void jobs, optional payloads and jobs without a context take none.
  await jobs.enqueue(NightlyJob);
  await jobs.enqueue(NightlyJob, undefined, { delayMs: 1_000 });
  await jobs.runNow(NightlyJob);
  await jobs.runNow(NightlyJob, { waitTimeoutMs: 5_000 });
  await jobs.enqueue(RebuildIndexJob);
  await jobs.enqueue(RebuildIndexJob, { full: true });
  await jobs.runNow(RebuildIndexJob);
  await jobs.runNow(RebuildIndexJob, { data: { full: true } });
  // @ts-expect-error the optional payload is still checked when given
  await jobs.enqueue(RebuildIndexJob, { full: 'yes' });
  await jobs.enqueue(PingJob);
  await jobs.runNow(PingJob);

  // Job ids stay untyped: the payload is optional and unchecked.
  await jobs.enqueue('send-report');
  await jobs.enqueue('send-report', { reportId: 1 });
  await jobs.runNow('send-report');
  await jobs.runNow('send-report', { data: { anything: true } });
}
