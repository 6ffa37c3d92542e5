import type { JobDefaults } from 'nestjs-background-jobs';
import type { DatabaseOptions, NotificationDomainOptions } from './domain';
import { JOBS_MODES, JobsMode, PIPELINE_SCHEDULES } from './notification.schedules';
import { describeRedis, SampleRedis } from './sample-app.redis';

/** Everything the sample app reads from its environment, in one place. */
export interface SampleAppConfig {
  /** JOBS_MODE: `pipeline` (default, exclusive), `additive` (both, for the idempotent jobs) or `legacy`. */
  mode: JobsMode;
  /** JOBS_DISABLED: pipeline job ids rolled back (`enabled: false`, their legacy schedulers restored). @default [] */
  disabled: string[];
  /**
   * REDIS_URL, REDIS_CLUSTER_NODES, or REDIS_SENTINELS + REDIS_SENTINEL_NAME: BullMQ transport (and BullMQ legacy
   * schedulers, bull-board) on that Redis when one is set; the embedded ones otherwise.
   */
  redis?: SampleRedis;
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
  return `${config.redis ? describeRedis(config.redis) : 'embedded transport'}, ${config.database.url ? 'PostgreSQL' : 'PGlite'}`;
}

const REDIS_SETTINGS = 'REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS (with REDIS_SENTINEL_NAME)';

/** `host:port,host:port` → addresses; a malformed entry throws one line naming it. */
function readNodes(variable: string, value: string): Array<{ host: string; port: number }> {
  return value.split(',').map((entry) => {
    const match = /^([^\s:,]+):(\d+)$/.exec(entry.trim());
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65_535) {
      throw new Error(
        `${variable} entry "${entry.trim()}" is not host:port. Fix: set ${variable} to comma-separated host:port pairs, e.g. 10.0.0.1:6379,10.0.0.2:6379.`,
      );
    }
    return { host: match[1], port };
  });
}

/** The Redis of REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS + REDIS_SENTINEL_NAME; none of them: undefined. */
function readRedis(env: NodeJS.ProcessEnv): SampleRedis | undefined {
  const given = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((name) => env[name]);
  if (given.length > 1) {
    throw new Error(
      `${given.join(' and ')} are set together, and the sample app runs on one Redis. Fix: set only one of ${REDIS_SETTINGS}.`,
    );
  }
  if (env.REDIS_SENTINEL_NAME && !env.REDIS_SENTINELS) {
    throw new Error(
      `REDIS_SENTINEL_NAME=${env.REDIS_SENTINEL_NAME} is set without REDIS_SENTINELS. Fix: set REDIS_SENTINELS=host:port,… of the sentinels, or unset REDIS_SENTINEL_NAME.`,
    );
  }
  if (env.REDIS_URL) return { url: env.REDIS_URL };
  if (env.REDIS_CLUSTER_NODES) return { cluster: { nodes: readNodes('REDIS_CLUSTER_NODES', env.REDIS_CLUSTER_NODES) } };
  if (env.REDIS_SENTINELS) {
    const sentinels = readNodes('REDIS_SENTINELS', env.REDIS_SENTINELS);
    if (!env.REDIS_SENTINEL_NAME) {
      throw new Error(
        'REDIS_SENTINELS is set without REDIS_SENTINEL_NAME. Fix: set REDIS_SENTINEL_NAME to the master name the sentinels monitor (sentinel monitor <name> …).',
      );
    }
    return { sentinels, name: env.REDIS_SENTINEL_NAME };
  }
  return undefined;
}

/** Reads the sample app's configuration; a bad value throws one line naming it and the fix. */
export function readSampleConfig(env: NodeJS.ProcessEnv = process.env): SampleAppConfig {
  const mode = (env.JOBS_MODE || 'pipeline') as JobsMode;
  if (!JOBS_MODES.includes(mode)) {
    throw new Error(
      `JOBS_MODE "${env.JOBS_MODE}" is not a mode. Fix: set JOBS_MODE to legacy, additive or pipeline (the default).`,
    );
  }
  const disabled = (env.JOBS_DISABLED ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const known = PIPELINE_SCHEDULES.map((s) => s.id) as string[];
  for (const id of disabled) {
    if (!known.includes(id))
      throw new Error(
        `JOBS_DISABLED names "${id}", which is not a pipeline job. Fix: use ids among ${known.join(', ')}.`,
      );
  }
  if (disabled.length && mode === 'legacy') {
    throw new Error(
      `JOBS_DISABLED=${env.JOBS_DISABLED} with JOBS_MODE=legacy: legacy mode already disables every pipeline job. Fix: unset JOBS_DISABLED, or use JOBS_MODE=pipeline or additive.`,
    );
  }
  const domain: Partial<NotificationDomainOptions> = {};
  if (env.CLAIM_LEASE_MS !== undefined && env.CLAIM_LEASE_MS !== '') {
    const lease = Number(env.CLAIM_LEASE_MS);
    if (!Number.isInteger(lease) || lease < 100) {
      throw new Error(
        `CLAIM_LEASE_MS "${env.CLAIM_LEASE_MS}" is not a lease. Fix: an integer number of milliseconds ≥ 100 (default 300000).`,
      );
    }
    domain.claimLeaseMs = lease;
  }
  const redis = readRedis(env);
  return {
    mode,
    disabled,
    redis,
    prefix: env.JOBS_PREFIX || 'sample',
    worker: env.JOBS_WORKER !== 'false',
    database: {
      url: env.DATABASE_URL || undefined,
      schema: env.DATABASE_SCHEMA || undefined,
      pgliteDataDir: env.PGLITE_DATA_DIR || undefined,
    },
    domain,
  };
}
