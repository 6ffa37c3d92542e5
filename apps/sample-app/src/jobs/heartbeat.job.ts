import { Logger } from '@nestjs/common';
import { BackgroundJob, JobContext, PipelineJob } from 'nestjs-background-jobs';

/** A minimal recurring job: logs a line every ten seconds, on the default queue beside the six notification jobs. */
@PipelineJob({ id: 'sample-heartbeat', cron: '*/10 * * * * *' })
export class HeartbeatJob implements BackgroundJob<void, string> {
  private readonly logger = new Logger(HeartbeatJob.name);

  async execute(ctx: JobContext<void>): Promise<string> {
    const message = `heartbeat tick=${ctx.scheduledAt?.toISOString() ?? 'manual'} execution=${ctx.executionId}`;
    this.logger.log(message);
    return message;
  }
}
