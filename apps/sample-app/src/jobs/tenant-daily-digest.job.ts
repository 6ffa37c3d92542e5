import { BackgroundJob, JobContext, PipelineJob } from 'nestjs-background-jobs';
import { TenantDigest, TenantDigestWorker } from '../domain';
import { NOTIFICATIONS_QUEUE } from '../notification.schedules';

/**
 * Each tenant's daily digest, one run per tenant of the TENANT_DIRECTORY (the domain's active tenants): one
 * tenant's failure neither fails nor delays the others. The legacy job looped over every tenant in one run.
 */
@PipelineJob({
  id: 'tenant-daily-digest-pipeline',
  cron: '55 23 * * *',
  queue: NOTIFICATIONS_QUEUE,
  tenancy: 'per-tenant',
})
export class TenantDailyDigestPipelineJob implements BackgroundJob<void, TenantDigest> {
  constructor(private readonly worker: TenantDigestWorker) {}

  execute(ctx: JobContext<void>): Promise<TenantDigest> {
    // NOTE: a per-tenant child run always has its tenant; the digest is of the tick's UTC day (or today, run by hand).
    return this.worker.digestDay(ctx.tenantId as string, ctx.scheduledAt ?? new Date(), ctx.signal);
  }
}
