import { Logger } from '@nestjs/common';
import { ConnectionOptions } from 'bullmq';
import IORedis, { RedisOptions } from 'ioredis';
import { REDIS_UNREACHABLE, RedisConnectionOptions } from '../../contracts';
import { DEFAULTS } from '../../core';

/**
 * What a Redis client is for:
 * - `queue`: BullMQ Queues (commands; BullMQ makes the client from what `bullmq('queue')` returns);
 * - `worker`: BullMQ Workers (a blocking connection each; BullMQ makes it the same way);
 * - `commands`: the framework's own keys (pause flags, last runs, cancel tombstones, health);
 * - `subscriber`: the cross-instance cancel channel (a connection in subscriber mode);
 * - `lock`: the distributed lock (lazy, no offline queue, auto-pipelined);
 * - `probe`: the boot check that Redis answers.
 */
export type RedisRole = 'queue' | 'worker' | 'commands' | 'subscriber' | 'lock' | 'probe';

export interface BullmqConnectionsConfig {
  /** How long boot waits for Redis before failing with one clear error; DEFAULTS.connectTimeoutMs when absent. */
  connectTimeoutMs?: number;
}

/** ioredis options of each role, on top of the connection's own. */
const ROLE_OPTIONS = (connectTimeoutMs: number): Record<Exclude<RedisRole, 'queue' | 'worker'>, RedisOptions> => ({
  commands: { maxRetriesPerRequest: 1 },
  subscriber: { maxRetriesPerRequest: null },
  // NOTE: no offline queue: a command while Redis is down fails at once instead of waiting (and acquiring) later.
  // Auto-pipelining sends the acquires and releases of concurrent runs issued in one tick as one socket write
  // (same order, same replies): a write per command was most of the lock's cost per run (bench/README.md).
  // Lazy: the client connects on the first acquire, so an app that fails to boot after DI (a bad job definition)
  // leaves no connection behind to keep its process alive.
  lock: { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectionName: 'bgj-lock', enableAutoPipelining: true },
  // NOTE: a short disconnectTimeout: after a refused connection ioredis otherwise keeps a 2 s timer alive, and a
  // host whose boot failed would linger that long before exiting.
  probe: {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: connectTimeoutMs,
    disconnectTimeout: 100,
  },
});

/**
 * The one place the BullMQ transport (and the Redis lock the entry wires beside it) gets its Redis clients from,
 * each made for its role. `commands()` is the one shared client of the framework's own keys.
 */
export class BullmqConnections {
  private readonly logger = new Logger('BackgroundJobs');
  private readonly owned: IORedis[] = [];
  private shared?: IORedis;
  private reachable?: Promise<void>;

  constructor(
    private readonly connection: RedisConnectionOptions,
    private readonly config: BullmqConnectionsConfig = {},
  ) {}

  private get connectTimeoutMs(): number {
    return this.config.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
  }

  /** What a BullMQ Queue or Worker takes as `connection`: BullMQ makes (and closes) that client itself. */
  bullmq(_role: 'queue' | 'worker'): ConnectionOptions {
    return this.connection;
  }

  /** A new client for `role`; the caller owns it, except `commands` and `subscriber`, which `close()` disconnects. */
  createClient(role: Exclude<RedisRole, 'queue' | 'worker'>): IORedis {
    const { url, ...rest } = this.connection;
    const options = { ...rest, ...ROLE_OPTIONS(this.connectTimeoutMs)[role] };
    const client = url ? new IORedis(url, options) : new IORedis(options);
    if (role === 'commands') client.on('error', () => undefined);
    if (role === 'subscriber') client.on('error', (error: Error) => this.logger.debug(`Redis: ${error.message}`));
    if (role === 'commands' || role === 'subscriber') this.owned.push(client);
    return client;
  }

  /** The framework's own keys (paused ids, last runs, tombstones) live beside the queues, on a client of their own. */
  commands(): IORedis {
    this.shared ??= this.createClient('commands');
    return this.shared;
  }

  /** Fails boot with one clear line, in bounded time, when Redis is unreachable or refuses the credentials. Checked once. */
  assertReachable(): Promise<void> {
    this.reachable ??= this.probe();
    return this.reachable;
  }

  /** Disconnects the clients this object owns (BullMQ closes its own). */
  close(): void {
    for (const client of this.owned.splice(0)) client.disconnect();
  }

  private async probe(): Promise<void> {
    const timeoutMs = this.connectTimeoutMs;
    const client = this.createClient('probe');
    let lastError: Error | undefined;
    client.on('error', (error: Error) => {
      lastError = error;
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.connect().then(() => client.ping()),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      const cause = (lastError ?? (error as Error)).message.replace(/\.$/, '');
      throw new Error(REDIS_UNREACHABLE(describeConnection(this.connection), cause));
    } finally {
      if (timer) clearTimeout(timer);
      client.disconnect();
    }
  }
}

function describeConnection(connection: RedisConnectionOptions): string {
  if (connection.url) return connection.url.replace(/\/\/([^@/]*)@/, '//***@');
  return `${connection.host ?? '127.0.0.1'}:${connection.port ?? 6379}${connection.db ? `/${connection.db}` : ''}`;
}
