import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import type { FixtureJob, InstanceConfig } from '../fixtures/instance';
import { testDatabaseUrl } from '../../support/postgres';
import { waitFor } from '../../support/redis';
import { TestRedisServer } from '../../support/redis-server';
import { AppInstance, removeCompiledFixture } from './instance';

const ARTIFACTS = join(__dirname, '../../artifacts/reliability');

const PG_URL = testDatabaseUrl();

/** One row of the fixture's `calls` (each execution of a job body) or `effects` (one per key) table. */
export interface Row {
  job_id: string;
  execution_id: string;
  key: string;
  instance: string;
  at: Date;
}

/**
 * What a reliability test works against: the file's own redis-server (stopped, wiped, restarted at will), a
 * fresh key prefix and PostgreSQL schema per test (dropped after it), and the app instances it spawned.
 */
export class ReliabilityWorld {
  redis!: TestRedisServer;
  prefix = '';
  schema = '';
  private pool!: Pool;
  /** Every instance spawned by the current test. */
  readonly instances: AppInstance[] = [];
  private readonly closers: Array<() => Promise<unknown>> = [];

  async setUpFile(): Promise<void> {
    this.redis = await TestRedisServer.create();
    this.pool = new Pool({ connectionString: PG_URL, max: 2 });
  }

  async tearDownFile(): Promise<void> {
    await AppInstance.killAll();
    await this.redis?.destroy();
    await this.pool?.end();
    removeCompiledFixture();
  }

  async setUpTest(): Promise<void> {
    const id = randomBytes(4).toString('hex');
    this.prefix = `rel-${id}`;
    this.schema = `rel_${id}`;
    if (!this.redis.running) await this.redis.start();
    await this.pool.query(`CREATE SCHEMA ${this.schema}`);
    await this.pool
      .query(`CREATE TABLE ${this.schema}.calls (job_id text NOT NULL, execution_id text NOT NULL, key text NOT NULL,
      instance text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await this.pool
      .query(`CREATE TABLE ${this.schema}.effects (job_id text NOT NULL, key text NOT NULL, execution_id text NOT NULL,
      instance text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (job_id, key))`);
  }

  /** Spawns an instance (killed after the test); await its `ready` or use start(). */
  spawn(name: string, jobs: FixtureJob[], extra: Partial<InstanceConfig> = {}): AppInstance {
    const instance = AppInstance.spawn(this.config(name, jobs, extra));
    this.instances.push(instance);
    return instance;
  }

  /** Spawns instances together and waits until each has booted (schedulers reconciled, workers ready). */
  async start(names: string[], jobs: FixtureJob[], extra: Partial<InstanceConfig> = {}): Promise<AppInstance[]> {
    const started = names.map((name) => this.spawn(name, jobs, extra));
    await Promise.all(started.map((instance) => instance.ready));
    return started;
  }

  async tearDownTest(): Promise<void> {
    await AppInstance.killAll();
    // NOTE: every instance's output is kept for a post-mortem (test/artifacts/ is git-ignored), and printed when an
    // expectation failed.
    const { currentTestName, assertionCalls, numPassingAsserts } = expect.getState();
    const log = describeInstances(this.instances.splice(0));
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(
      join(ARTIFACTS, `${(currentTestName ?? 'test').replace(/[^a-z0-9]+/gi, '-').slice(0, 120)}.log`),
      log,
    );
    if (assertionCalls !== numPassingAsserts) process.stderr.write(log);
    for (const close of this.closers.splice(0).reverse()) await close().catch(() => undefined);
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    if (this.redis.running) {
      const client = new IORedis(this.redis.url, { maxRetriesPerRequest: 1 });
      await client.flushall().finally(() => client.disconnect());
    }
  }

  private config(name: string, jobs: FixtureJob[], extra: Partial<InstanceConfig> = {}): InstanceConfig {
    return { name, redisUrl: this.redis.url, prefix: this.prefix, pgUrl: PG_URL, schema: this.schema, jobs, ...extra };
  }

  async calls(jobId?: string): Promise<Row[]> {
    return this.rows('calls', jobId);
  }

  async effects(jobId?: string): Promise<Row[]> {
    return this.rows('effects', jobId);
  }

  private async rows(table: 'calls' | 'effects', jobId?: string): Promise<Row[]> {
    const where = jobId ? 'WHERE job_id = $1' : '';
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM ${this.schema}.${table} ${where} ORDER BY at`,
      jobId ? [jobId] : [],
    );
    return rows;
  }

  /** Runs `close` after the test, whatever its outcome. */
  defer(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  /** A plain BullMQ queue on the test's prefix, closed after the test. */
  queue(name = 'background-jobs'): Queue {
    const queue = new Queue(name, {
      connection: { url: this.redis.url, maxRetriesPerRequest: 1 } as never,
      prefix: this.prefix,
    });
    queue.on('error', () => undefined);
    this.closers.push(() => queue.close());
    return queue;
  }

  /** A plain Redis client, disconnected after the test. */
  client(): IORedis {
    const client = new IORedis(this.redis.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    this.closers.push(async () => client.disconnect());
    return client;
  }

  /** Calls `onCommand` with each command Redis runs and the client address that sent it, until the test ends. */
  async monitor(onCommand: (args: string[], source: string) => void): Promise<void> {
    const monitor = await this.client().monitor();
    monitor.on('error', () => undefined);
    monitor.on('monitor', (_time: string, args: string[], source: string) => onCommand(args, source));
    this.closers.push(async () => monitor.disconnect());
  }
}

/** Polls `rows` until it returns at least `min` rows (an empty array is not truthy enough for waitFor). */
export async function waitForRows(
  what: string,
  rows: () => Promise<Row[]>,
  timeoutMs: number,
  min = 1,
): Promise<Row[]> {
  const found = await waitFor(
    what,
    async () => {
      const current = await rows();
      return current.length >= min ? current : null;
    },
    timeoutMs,
  );
  return found as Row[];
}

/** Every output line of the instances, for a failing test's message. */
function describeInstances(instances: AppInstance[]): string {
  return instances
    .map(
      (instance) =>
        `--- ${instance.name} (pid ${instance.pid}, boot ${instance.startupMs ?? '-'} ms)\n${instance.output}`,
    )
    .join('\n');
}
