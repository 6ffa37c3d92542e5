import { LoggerService } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { BackgroundJobs } from 'nestjs-background-jobs';
import { AppModule } from '../../../apps/sample-app/src/app.module';
import { PIPELINE_SCHEDULES } from '../../../apps/sample-app/src/notification.schedules';
import { DatabaseOptions } from '../../../apps/sample-app/src/domain';
import { SampleAppConfig } from '../../../apps/sample-app/src/sample-app.config';
import { testDatabaseUrl } from '../../support/postgres';
import { testRedisUrl } from '../../support/redis';
import { PgliteThreadDatabase } from './pglite-thread.database';

/** A fresh schema name per test. */
function randomSchema(label = 's'): string {
  return `${label}_${randomBytes(4).toString('hex')}`;
}

/** Runs one statement on the test PostgreSQL with a short-lived client. */
async function onPostgres<T = unknown>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * One database the suites run on: real PostgreSQL (a schema per test, dropped after) or PGlite (one instance
 * per file, a schema per test).
 */
export interface DatabaseTarget {
  name: 'PostgreSQL' | 'PGlite';
  /** Options for a fresh, empty schema. */
  fresh(): Promise<DatabaseOptions>;
  /** Drops the schemas `fresh` made. */
  cleanup(): Promise<void>;
  /** Closes what the target holds (afterAll). */
  close(): Promise<void>;
}

export function postgresTarget(): DatabaseTarget {
  const schemas: string[] = [];
  return {
    name: 'PostgreSQL',
    async fresh() {
      const schema = randomSchema('sample_pg');
      schemas.push(schema);
      return { url: testDatabaseUrl(), schema };
    },
    async cleanup() {
      for (const schema of schemas.splice(0)) await onPostgres(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
    async close() {},
  };
}

export function pgliteTarget(): DatabaseTarget {
  let shared: PgliteThreadDatabase | undefined;
  const schemas: string[] = [];
  return {
    name: 'PGlite',
    async fresh() {
      shared ??= new PgliteThreadDatabase();
      const schema = randomSchema('sample_lite');
      schemas.push(schema);
      await shared.query(`CREATE SCHEMA "${schema}"`);
      await shared.query(`SET search_path TO "${schema}"`);
      return { database: shared };
    },
    async cleanup() {
      for (const schema of schemas.splice(0)) await shared?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
    async close() {
      await shared?.close();
      shared = undefined;
    },
  };
}

/** Log lines the app wrote, for assertions on what an operator would read. */
export class RecordingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string }> = [];
  log(message: unknown) {
    this.lines.push({ level: 'log', message: String(message) });
  }
  error(message: unknown) {
    this.lines.push({ level: 'error', message: String(message) });
  }
  warn(message: unknown) {
    this.lines.push({ level: 'warn', message: String(message) });
  }
  debug() {}
  verbose() {}
}

/**
 * Boots the real sample app (AppModule) as an application context: BullMQ on the suite's Redis under `prefix`
 * (or the embedded transport), the given database, fast retries. Close it in afterEach.
 */
export async function startSampleApp(options: {
  database: DatabaseOptions;
  prefix?: string;
  mode?: SampleAppConfig['mode'];
  /** JOBS_DISABLED: pipeline jobs rolled back to their legacy registration. */
  disabled?: string[];
  /** CLAIM_LEASE_MS. @default the domain's (5 minutes) */
  claimLeaseMs?: number;
  logger?: LoggerService | false;
}): Promise<TestingModule> {
  const config: SampleAppConfig = {
    mode: options.mode ?? 'pipeline',
    disabled: options.disabled ?? [],
    redisUrl: options.prefix ? testRedisUrl() : undefined,
    prefix: options.prefix ?? 'sample',
    worker: true,
    database: options.database,
    jobDefaults: { retry: { attempts: 2, backoffMs: 20 } },
    domain: options.claimLeaseMs ? { claimLeaseMs: options.claimLeaseMs } : undefined,
  };
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
  moduleRef.useLogger(options.logger ?? false);
  await moduleRef.init();
  return moduleRef;
}

/**
 * Pauses the pipeline jobs' schedules (kept under the test's own prefix, deleted afterwards), so that a cron tick at
 * a minute boundary cannot add a run to what a test counts; `runNow` still runs them.
 */
export async function pauseSchedules(app: TestingModule): Promise<void> {
  const jobs = app.get(BackgroundJobs);
  for (const { id } of PIPELINE_SCHEDULES) await jobs.pause(id);
}
