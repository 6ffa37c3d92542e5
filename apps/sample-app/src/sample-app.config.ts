import type { JobDefaults } from 'nestjs-background-jobs';
import type { DatabaseOptions, NotificationDomainOptions } from './domain';
import { JOBS_MODES, JobsMode, PIPELINE_SCHEDULES } from './notification.schedules';

/** Everything the sample app reads from its environment, in one place. */
export interface SampleAppConfig {
  /** JOBS_MODE: `pipeline` (default, exclusive), `additive` (both, for the idempotent jobs) or `legacy`. */
  mode: JobsMode;
  /** JOBS_DISABLED: pipeline job ids rolled back (`enabled: false`, their legacy schedulers restored). @default [] */
  disabled: string[];
  /** REDIS_URL: BullMQ transport (and BullMQ legacy schedulers) when set; the embedded ones otherwise. */
  redisUrl?: string;
  /** JOBS_PREFIX: BullMQ key prefix. @default 'sample' */
  prefix: string;
  /** JOBS_WORKER=false: producer only (schedules and enqueues, runs nothing). */
  worker: boolean;
  /** DATABASE_URL (PostgreSQL; unset → embedded PGlite), DATABASE_SCHEMA, PGLITE_DATA_DIR. */
  database: DatabaseOptions;
  /** Job defaults (retry, timeout, history) for BackgroundJobsModule. */
  jobDefaults?: JobDefaults;
  /** Domain settings (retention, batch size, CLAIM_LEASE_MS). */
  domain?: Partial<NotificationDomainOptions>;
}

/** The transport and database a config runs on, for start-up lines: e.g. "embedded transport, PGlite". */
export function describeBackends(config: SampleAppConfig): string {
  return `${config.redisUrl ? 'BullMQ' : 'embedded transport'}, ${config.database.url ? 'PostgreSQL' : 'PGlite'}`;
}

/** Reads the sample app's configuration; a bad value throws one line naming it and the fix. */
export function readSampleConfig(env: NodeJS.ProcessEnv = process.env): SampleAppConfig {
  const mode = (env.JOBS_MODE || 'pipeline') as JobsMode;
  if (!JOBS_MODES.includes(mode)) {
    throw new Error(`JOBS_MODE "${env.JOBS_MODE}" is not a mode. Fix: set JOBS_MODE to legacy, additive or pipeline (the default).`);
  }
  const disabled = (env.JOBS_DISABLED ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const known = PIPELINE_SCHEDULES.map((s) => s.id) as string[];
  for (const id of disabled) {
    if (!known.includes(id)) throw new Error(`JOBS_DISABLED names "${id}", which is not a pipeline job. Fix: use ids among ${known.join(', ')}.`);
  }
  if (disabled.length && mode === 'legacy') {
    throw new Error(`JOBS_DISABLED=${env.JOBS_DISABLED} with JOBS_MODE=legacy: legacy mode already disables every pipeline job. Fix: unset JOBS_DISABLED, or use JOBS_MODE=pipeline or additive.`);
  }
  const domain: Partial<NotificationDomainOptions> = {};
  if (env.CLAIM_LEASE_MS !== undefined && env.CLAIM_LEASE_MS !== '') {
    const lease = Number(env.CLAIM_LEASE_MS);
    if (!Number.isInteger(lease) || lease < 100) {
      throw new Error(`CLAIM_LEASE_MS "${env.CLAIM_LEASE_MS}" is not a lease. Fix: an integer number of milliseconds ≥ 100 (default 300000).`);
    }
    domain.claimLeaseMs = lease;
  }
  return {
    mode,
    disabled,
    redisUrl: env.REDIS_URL || undefined,
    prefix: env.JOBS_PREFIX || 'sample',
    worker: env.JOBS_WORKER !== 'false',
    database: { url: env.DATABASE_URL || undefined, schema: env.DATABASE_SCHEMA || undefined, pgliteDataDir: env.PGLITE_DATA_DIR || undefined },
    domain,
  };
}
