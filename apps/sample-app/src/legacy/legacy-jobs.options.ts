import { LegacyJobId } from '../notification.schedules';

export const LEGACY_JOBS_OPTIONS = Symbol('sample-app:legacy-jobs-options');

/** What the legacy registrations run on and which of them exist. */
export interface LegacyJobsOptions {
  /** BullMQ schedulers and processor when set; in-process crons otherwise. */
  redisUrl?: string;
  /** BullMQ key prefix (with redisUrl). */
  prefix: string;
  /** Run the legacy jobs here (false: producer only, schedules kept). */
  worker: boolean;
  /** The legacy schedulers this configuration wants; the others are removed. */
  schedules: ReadonlyArray<{ id: LegacyJobId; cron: string }>;
}
