import { LegacyJobId } from '../notification.schedules';
import type { SampleRedis } from '../sample-app.redis';

export const LEGACY_JOBS_OPTIONS = Symbol('sample-app:legacy-jobs-options');

/** What the legacy registrations run on and which of them exist. */
export interface LegacyJobsOptions {
  /** BullMQ schedulers and processor on this Redis when set; in-process crons otherwise. */
  redis?: SampleRedis;
  /** BullMQ key prefix (with redis); on a cluster the legacy queue's keys go under `<prefix>:{<queue>}`. */
  prefix: string;
  /** Run the legacy jobs here (false: producer only, schedules kept). */
  worker: boolean;
  /** The legacy schedulers this configuration wants; the others are removed. */
  schedules: ReadonlyArray<{ id: LegacyJobId; cron: string }>;
}
