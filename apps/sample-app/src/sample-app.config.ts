import type { JobDefaults } from 'nestjs-background-jobs';
import type { DatabaseOptions, NotificationDomainOptions } from './domain';
import { JobsMode } from './notification.schedules';

/** Everything the sample app reads from its environment, in one place. */
export interface SampleAppConfig {
  /** JOBS_MODE: `pipeline` (default) runs the six `@PipelineJob`s; `legacy` is the rollback. */
  mode: JobsMode;
  /** REDIS_URL: BullMQ transport when set; the embedded one otherwise. */
  redisUrl?: string;
  /** JOBS_PREFIX: BullMQ key prefix. @default 'sample' */
  prefix: string;
  /** JOBS_WORKER=false: producer only (schedules and enqueues, runs nothing). */
  worker: boolean;
  /** DATABASE_URL (PostgreSQL; unset → embedded PGlite), DATABASE_SCHEMA, PGLITE_DATA_DIR. */
  database: DatabaseOptions;
  /** Job defaults (retry, timeout, history) for BackgroundJobsModule. */
  jobDefaults?: JobDefaults;
  /** Domain settings (retention, batch size). */
  domain?: Partial<NotificationDomainOptions>;
}

/** The transport and database a config runs on, for start-up lines: e.g. "embedded transport, PGlite". */
export function describeBackends(config: SampleAppConfig): string {
  return `${config.redisUrl ? 'BullMQ' : 'embedded transport'}, ${config.database.url ? 'PostgreSQL' : 'PGlite'}`;
}

/** Reads the sample app's configuration; a bad combination throws one line saying what to set. */
export function readSampleConfig(env: NodeJS.ProcessEnv = process.env): SampleAppConfig {
  const mode = (env.JOBS_MODE || 'pipeline') as JobsMode;
  if (mode !== 'pipeline' && mode !== 'legacy') {
    throw new Error(`JOBS_MODE must be "pipeline" (the default) or "legacy" (the rollback), not "${env.JOBS_MODE}".`);
  }
  const redisUrl = env.REDIS_URL || undefined;
  if (mode === 'legacy' && !redisUrl) {
    throw new Error(
      'JOBS_MODE=legacy needs REDIS_URL: the legacy registrations are plain BullMQ job schedulers and a BullMQ processor. ' +
        'Set REDIS_URL, or use JOBS_MODE=pipeline (the default), which also runs embedded.',
    );
  }
  return {
    mode,
    redisUrl,
    prefix: env.JOBS_PREFIX || 'sample',
    worker: env.JOBS_WORKER !== 'false',
    database: { url: env.DATABASE_URL || undefined, schema: env.DATABASE_SCHEMA || undefined, pgliteDataDir: env.PGLITE_DATA_DIR || undefined },
  };
}
