import { Type } from '@nestjs/common';
import { PipelineJob } from 'nestjs-background-jobs';
import { NOTIFICATIONS_QUEUE, PipelineJobId } from '../notification.schedules';
import { CampaignCleanupPipelineJob } from './campaign-cleanup.job';
import { CampaignSchedulerPipelineJob } from './campaign-scheduler.job';
import { CampaignWorkflowExecutorPipelineJob } from './campaign-workflow-executor.job';
import { NotificationDeadLetterCleanupPipelineJob } from './notification-deadletter-cleanup.job';
import { NotificationRetryExpirePipelineJob } from './notification-retry-expire.job';
import { NotificationRetryProcessorPipelineJob } from './notification-retry-processor.job';
import { TenantDailyDigestPipelineJob } from './tenant-daily-digest.job';

export {
  CampaignCleanupPipelineJob,
  CampaignSchedulerPipelineJob,
  CampaignWorkflowExecutorPipelineJob,
  NotificationDeadLetterCleanupPipelineJob,
  NotificationRetryExpirePipelineJob,
  NotificationRetryProcessorPipelineJob,
  TenantDailyDigestPipelineJob,
};
export { HeartbeatJob } from './heartbeat.job';
export { NotificationTenantDirectory } from './notification-tenant.directory';

/** The migrated jobs by id: DESIGN.md's six, in its table's order, and the per-tenant digest. */
export const PIPELINE_JOBS: Record<PipelineJobId, Type> = {
  'notification-deadletter-cleanup-pipeline': NotificationDeadLetterCleanupPipelineJob,
  'notification-retry-expire-pipeline': NotificationRetryExpirePipelineJob,
  'notification-retry-processor-pipeline': NotificationRetryProcessorPipelineJob,
  'campaign-cleanup-pipeline': CampaignCleanupPipelineJob,
  'campaign-scheduler-pipeline': CampaignSchedulerPipelineJob,
  'campaign-workflow-executor-pipeline': CampaignWorkflowExecutorPipelineJob,
  'tenant-daily-digest-pipeline': TenantDailyDigestPipelineJob,
};

/**
 * The job providers for a configuration: each job as declared when enabled; a rolled-back one as a subclass
 * declared `enabled: false`, which keeps it registered (runs refused) and removes its schedule.
 * NOTE: `enabled` is a decorator option, fixed per class; a subclass is how configuration read at start-up sets it.
 */
export function pipelineJobProviders(enabled: readonly PipelineJobId[]): Type[] {
  return (Object.entries(PIPELINE_JOBS) as Array<[PipelineJobId, Type]>).map(([id, job]) => {
    if (enabled.includes(id)) return job;
    const disabled = class extends job {};
    Object.defineProperty(disabled, 'name', { value: job.name });
    PipelineJob({ id, queue: NOTIFICATIONS_QUEUE, enabled: false })(disabled);
    return disabled;
  });
}
