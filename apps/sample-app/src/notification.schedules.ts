/** The queue the six notification jobs (and, in legacy mode, their hand-rolled predecessors) run on. */
export const NOTIFICATIONS_QUEUE = 'notifications';

/** `pipeline` (default): the six `@PipelineJob`s, legacy schedulers removed. `legacy`: the rollback. */
export type JobsMode = 'pipeline' | 'legacy';

/** The six migrated jobs (DESIGN.md, "The sample app: six migrated jobs"). */
export const PIPELINE_SCHEDULES = [
  { id: 'notification-deadletter-cleanup-pipeline', cron: '0 2 * * *' },
  { id: 'notification-retry-expire-pipeline', cron: '0 * * * *' },
  { id: 'notification-retry-processor-pipeline', cron: '*/2 * * * *' },
  { id: 'campaign-cleanup-pipeline', cron: '0 3 * * *' },
  { id: 'campaign-scheduler-pipeline', cron: '* * * * *' },
  { id: 'campaign-workflow-executor-pipeline', cron: '*/2 * * * *' },
] as const;

/** The hand-rolled registrations they replaced (the dead-letter job replaced two), kept for rollback. */
export const LEGACY_SCHEDULES = [
  { id: 'notification-deadletter-cleanup', cron: '0 2 * * *' },
  { id: 'notification-retry-cleanup', cron: '0 2 * * *' },
  { id: 'notification-retry-expire', cron: '0 * * * *' },
  { id: 'notification-retry-processor', cron: '*/2 * * * *' },
  { id: 'campaign-cleanup', cron: '0 3 * * *' },
  { id: 'campaign-scheduler', cron: '* * * * *' },
  { id: 'campaign-workflow-executor', cron: '*/2 * * * *' },
] as const;

export type LegacyJobId = (typeof LEGACY_SCHEDULES)[number]['id'];
