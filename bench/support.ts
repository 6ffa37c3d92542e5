import { DynamicModule, INestApplicationContext, Injectable, LogLevel, Module, Provider, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BullModule, InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BackgroundJobsModule, BackgroundJobsModuleOptions, BullmqConnection } from 'nestjs-background-jobs';

/** The job options the framework gives every run with the default module options (see jobOptions in adapters/bullmq/bullmq-queues.ts, whose backoff type is the worker's own strategy computing the same delays as 'exponential'). */
export const FRAMEWORK_DEFAULT_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { count: 1_000, age: 86_400 },
  removeOnFail: { count: 5_000, age: 604_800 },
} as const;

/** The framework's default queue name (internal to the library, so taken from its source like the bench's other internals). */
export { DEFAULT_QUEUE } from '../libs/background-jobs/src/contracts';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh key prefix per measured run, so runs never see each other's keys. */
export function benchPrefix(label: string): string {
  return `bench-${label}-${randomBytes(3).toString('hex')}`;
}

/** Value at quantile `q` (0..1) of `samples` (nearest rank). */
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export const median = (samples: number[]): number => quantile(samples, 0.5);

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

// NOTE: the same helper the tests declare their jobs with.
export { defineJob } from '../test/support/jobs-app';

export interface BenchAppOptions extends Partial<Omit<BackgroundJobsModuleOptions, 'transport'>> {
  /** BullMQ on this Redis URL, or the embedded transport when `'local'`. */
  redis: string | 'local';
  /** Instead of `redis` (then ignored): any transport.connection (a Redis Cluster in the cluster benchmark). */
  connection?: BullmqConnection;
  prefix?: string;
  jobs: Type[];
  providers?: Provider[];
}

/** Log levels of the bench apps: problems only, so console output does not become part of the measurement. */
const LOG_LEVELS: LogLevel[] = ['error', 'warn'];

/** Boots a plain Nest application context (no testing module) with the library, as a host would. */
export async function startApp(options: BenchAppOptions): Promise<INestApplicationContext> {
  const { redis, connection, prefix, jobs, providers = [], ...rest } = options;
  @Module({})
  class BenchAppModule {}
  const root: DynamicModule = {
    module: BenchAppModule,
    imports: [
      BackgroundJobsModule.forRoot({
        transport:
          redis === 'local' ? { type: 'local' } : { type: 'bullmq', connection: connection ?? { url: redis }, prefix },
        ...rest,
      }),
    ],
    providers: [...jobs, ...providers],
  };
  return NestFactory.createApplicationContext(root, { logger: LOG_LEVELS, abortOnError: false });
}

/** A plain ioredis client for the bench's own reads (stats, cleanup). */
export function redisClient(url: string): IORedis {
  const client = new IORedis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  return client;
}

// NOTE: the same key cleanup and polling helpers the tests use.
export { deleteKeysUnder, deletePrefix, waitFor } from '../test/support/redis';

/** Calls per command from `INFO commandstats` (commands run inside Lua scripts are counted too). */
export async function commandStats(redis: IORedis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const stats = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats.set(match[1], Number(match[2]));
  return stats;
}

/** `after - before` per command, leaving out the one `INFO` the bench itself sent to read `before`. */
export function commandDelta(
  before: Map<string, number>,
  after: Map<string, number>,
): { total: number; byCommand: Record<string, number> } {
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const [command, calls] of after) {
    const delta = calls - (before.get(command) ?? 0) - (command === 'info' ? 1 : 0);
    if (delta > 0) {
      byCommand[command] = delta;
      total += delta;
    }
  }
  return { total, byCommand: Object.fromEntries(Object.entries(byCommand).sort((a, b) => b[1] - a[1])) };
}

/** Full garbage collection (V8's `gc`, exposed at run time so the bench needs no node flag). */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

/** The machine the figures come from. */
export async function describeMachine(redis: IORedis): Promise<Record<string, unknown>> {
  const server = await redis.info('server');
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(server)?.[1]?.trim();
  const cores = cpus();
  return {
    cpuModel: cores[0]?.model ?? 'unknown',
    cores: cores.length,
    memoryMb: Math.round(totalmem() / 2 ** 20),
    freeMemoryMbAtStart: Math.round(freemem() / 2 ** 20),
    loadAverageAtStart: loadavg().map((value) => round(value)),
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
    redis: field('redis_version'),
    redisMalloc: field('mem_allocator'),
    bullmq: packageVersion('bullmq'),
    ioredis: packageVersion('ioredis'),
    nestjsCore: packageVersion('@nestjs/core'),
  };
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * What a Nest user writes with `@nestjs/bullmq` (the alternative to this library): `BullModule.forRoot` on the same
 * Redis and prefix, `registerQueue`, and one `@Processor` class extending `WorkerHost` whose `process` calls `body`.
 * The worker starts when the app context is created.
 */
export async function startNestBullmqApp(
  url: string,
  prefix: string,
  queue: string,
  concurrency: number,
  body: () => void,
): Promise<INestApplicationContext> {
  class NoopProcessor extends WorkerHost {
    async process(): Promise<void> {
      body();
    }
  }
  Processor(queue, { concurrency })(NoopProcessor);
  @Module({
    imports: [BullModule.forRoot({ connection: { url }, prefix }), BullModule.registerQueue({ name: queue })],
    providers: [NoopProcessor],
  })
  class NestBullmqBenchModule {}
  return NestFactory.createApplicationContext(NestBullmqBenchModule, { logger: LOG_LEVELS, abortOnError: false });
}

/** The queue a `@nestjs/bullmq` producer service holds (`@InjectQueue`), and how to close its app. */
export interface NestBullmqProducer {
  queue: Queue;
  close: () => Promise<void>;
}

/**
 * What a Nest user writes to enqueue with `@nestjs/bullmq`: `registerQueue` with the framework's default attempts and
 * retention as `defaultJobOptions`, and a service holding the queue through `@InjectQueue`. No processor, so nothing
 * consumes (a web tier).
 */
export async function startNestBullmqProducer(url: string, prefix: string, queue: string): Promise<NestBullmqProducer> {
  @Injectable()
  class Producer {
    constructor(@InjectQueue(queue) readonly queue: Queue) {}
  }
  @Module({
    imports: [
      BullModule.forRoot({ connection: { url }, prefix }),
      BullModule.registerQueue({ name: queue, defaultJobOptions: FRAMEWORK_DEFAULT_JOB_OPTIONS }),
    ],
    providers: [Producer],
  })
  class NestBullmqProducerModule {}
  const app = await NestFactory.createApplicationContext(NestBullmqProducerModule, {
    logger: LOG_LEVELS,
    abortOnError: false,
  });
  const producer = app.get(Producer);
  await producer.queue.waitUntilReady();
  return { queue: producer.queue, close: () => app.close() };
}
