import { CampaignCleanupPipelineJob } from './campaign-cleanup.job';
import { CampaignSchedulerPipelineJob } from './campaign-scheduler.job';
import { CampaignWorkflowExecutorPipelineJob } from './campaign-workflow-executor.job';
import { NotificationDeadLetterCleanupPipelineJob } from './notification-deadletter-cleanup.job';
import { NotificationRetryExpirePipelineJob } from './notification-retry-expire.job';
import { NotificationRetryProcessorPipelineJob } from './notification-retry-processor.job';

export {
  CampaignCleanupPipelineJob,
  CampaignSchedulerPipelineJob,
  CampaignWorkflowExecutorPipelineJob,
  NotificationDeadLetterCleanupPipelineJob,
  NotificationRetryExpirePipelineJob,
  NotificationRetryProcessorPipelineJob,
};
export { HeartbeatJob } from './heartbeat.job';

/** The six migrated jobs, in the order of DESIGN.md's table. */
export const PIPELINE_JOBS = [
  NotificationDeadLetterCleanupPipelineJob,
  NotificationRetryExpirePipelineJob,
  NotificationRetryProcessorPipelineJob,
  CampaignCleanupPipelineJob,
  CampaignSchedulerPipelineJob,
  CampaignWorkflowExecutorPipelineJob,
] as const;
