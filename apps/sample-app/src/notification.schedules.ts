/** The queue the pipeline jobs run on. */
export const NOTIFICATIONS_QUEUE = 'notifications';

/**
 * The legacy processor's own queue. NOTE: not the pipeline's: a BullMQ worker takes every job of its queue, so a
 * pipeline worker sharing one with the legacy processor would take (and fail) legacy jobs, and the other way round.
 * Separate queues are what lets both run side by side in additive mode.
 */
export const LEGACY_QUEUE = 'notifications-legacy';

/**
 * `legacy`: only the hand-rolled registrations (the state before the migration, and the full rollback).
 * `additive`: the pipeline jobs, and beside them the legacy schedulers of the jobs safe to run twice.
 * `pipeline` (default): the exclusive cutover, pipeline jobs only.
 */
export type JobsMode = 'legacy' | 'additive' | 'pipeline';

export const JOBS_MODES: readonly JobsMode[] = ['legacy', 'additive', 'pipeline'];

/**
 * Each migrated job: its pipeline id and cron, the legacy scheduler ids it replaced (the dead-letter job replaced
 * two), and whether additive mode may run its legacy scheduler beside it. The two jobs that send messages never
 * run side by side (the design notes cut them over exclusively); the others are idempotent.
 */
export const MIGRATED_JOBS = [
  {
    id: 'notification-deadletter-cleanup-pipeline',
    cron: '0 2 * * *',
    legacy: ['notification-deadletter-cleanup', 'notification-retry-cleanup'],
    additive: true,
  },
  {
    id: 'notification-retry-expire-pipeline',
    cron: '0 * * * *',
    legacy: ['notification-retry-expire'],
    additive: true,
  },
  {
    id: 'notification-retry-processor-pipeline',
    cron: '*/2 * * * *',
    legacy: ['notification-retry-processor'],
    additive: false,
  },
  { id: 'campaign-cleanup-pipeline', cron: '0 3 * * *', legacy: ['campaign-cleanup'], additive: true },
  { id: 'campaign-scheduler-pipeline', cron: '* * * * *', legacy: ['campaign-scheduler'], additive: true },
  {
    id: 'campaign-workflow-executor-pipeline',
    cron: '*/2 * * * *',
    legacy: ['campaign-workflow-executor'],
    additive: false,
  },
  { id: 'tenant-daily-digest-pipeline', cron: '55 23 * * *', legacy: ['tenant-daily-digest'], additive: true },
] as const;

export type PipelineJobId = (typeof MIGRATED_JOBS)[number]['id'];
export type LegacyJobId = (typeof MIGRATED_JOBS)[number]['legacy'][number];

/** The seven pipeline jobs' schedules (DESIGN.md's six, and the per-tenant digest). */
export const PIPELINE_SCHEDULES: ReadonlyArray<{ id: PipelineJobId; cron: string }> = MIGRATED_JOBS.map(
  ({ id, cron }) => ({ id, cron }),
);

/** The hand-rolled registrations they replaced, kept for rollback; each on its pipeline job's cron. */
export const LEGACY_SCHEDULES: ReadonlyArray<{ id: LegacyJobId; cron: string; replacedBy: PipelineJobId }> =
  MIGRATED_JOBS.flatMap(({ id, cron, legacy }) => legacy.map((legacyId) => ({ id: legacyId, cron, replacedBy: id })));

/** Which pipeline jobs run and which legacy schedulers exist, for a mode and the jobs rolled back by JOBS_DISABLED. */
export interface ActiveSchedules {
  /** Pipeline jobs registered with `enabled: true`. */
  pipeline: PipelineJobId[];
  /** Legacy schedulers that exist. */
  legacy: Array<{ id: LegacyJobId; cron: string }>;
}

export function activeSchedules(mode: JobsMode, disabled: readonly string[] = []): ActiveSchedules {
  const pipeline: PipelineJobId[] = [];
  const legacy: ActiveSchedules['legacy'] = [];
  for (const job of MIGRATED_JOBS) {
    const enabled = mode !== 'legacy' && !disabled.includes(job.id);
    if (enabled) pipeline.push(job.id);
    if (!enabled || (mode === 'additive' && job.additive))
      legacy.push(...job.legacy.map((id) => ({ id, cron: job.cron })));
  }
  return { pipeline, legacy };
}
