import { Logger } from '@nestjs/common';
import { ConnectionOptions } from 'bullmq';
import { BullmqConnection, REDIS_UNREACHABLE, RedisUnreachableError } from '../../contracts';
import { DEFAULTS } from '../../core';
import { ClientOverrides, RedisClient, RedisConnectionFactory } from './redis-connection';
import { RedisTarget } from './redis-connection-parser';
import { groupWrites } from './socket-write-groups';

/**
 * What a Redis client is for:
 * - `queue`: BullMQ Queues (they share the `commands` client: BullMQ lets non-blocking Queues share an instance);
 * - `worker`: BullMQ Workers (a blocking connection each and one for commands; BullMQ makes them from what
 *   `bullmq('worker')` returns);
 * - `commands`: every Queue and the framework's own keys (pause flags, last runs, cancel tombstones, health);
 * - `subscriber`: the cross-instance cancel channel (a connection in subscriber mode);
 * - `lock`: the distributed lock (lazy, no offline queue, auto-pipelined);
 * - `probe`: the boot check that Redis answers.
 */
export type RedisRole = 'queue' | 'worker' | 'commands' | 'subscriber' | 'lock' | 'probe';

export interface BullmqConnectionsConfig {
  /** How long boot waits for Redis before failing with one clear error; DEFAULTS.connectTimeoutMs when absent. */
  connectTimeoutMs?: number;
}

/** ioredis options of each role, on top of the connection's own (each client is named `bgj:<role>`). */
const ROLE_OPTIONS = (connectTimeoutMs: number): Record<Exclude<RedisRole, 'queue' | 'worker'>, ClientOverrides> => ({
  // NOTE: ioredis' retry defaults, as BullMQ gives its own Queue clients (which share this one): an enqueue rides out
  // a short reconnect. The health indicator bounds its own wait. No auto-pipelining: ioredis sends one auto-pipeline
  // at a time per client (the next waits for every reply of the one before) and builds a Pipeline for each, whose
  // constructor copies every script defined on the client; a large burst of enqueues in one event-loop turn leaves in
  // one socket write per 16 by corking the socket instead (`groupWrites`, socket-write-groups.ts).
  commands: {},
  subscriber: { maxRetriesPerRequest: null },
  // NOTE: no offline queue: a command while Redis is down fails at once instead of waiting (and acquiring) later.
  // Auto-pipelining sends the acquires and releases of concurrent runs issued in one tick as one socket write
  // (same order, same replies): a write per command was most of the lock's cost per run (ADR 0005).
  // Lazy: the client connects on the first acquire, so an app that fails to boot after DI (a bad job definition)
  // leaves no connection behind to keep its process alive.
  // EVALSHA is left out of it: the lock sends the acquires and releases of one tick as one EVALSHA of its own.
  lock: {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: true,
    autoPipeliningIgnoredCommands: ['evalsha'],
  },
  // NOTE: a short disconnectTimeout: after a refused connection ioredis otherwise keeps a 2 s timer alive, and a
  // host whose boot failed would linger that long before exiting.
  probe: {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    failFast: true,
    connectTimeout: connectTimeoutMs,
    disconnectTimeout: 100,
  },
});

/**
 * The one place the BullMQ transport (and the Redis lock the entry wires beside it) gets its Redis clients from,
 * each made for its role from `transport.connection` (validated here: a bad key stops the boot before any
 * connection). `commands()` is the one shared client of every Queue and the framework's own keys. The host's own
 * client, when it passed one, is used as the commands client and never closed.
 */
export class BullmqConnections {
  private readonly logger = new Logger('BackgroundJobs');
  private readonly factory: RedisConnectionFactory;
  private readonly owned: RedisClient[] = [];
  private shared?: RedisClient;
  private workerTemplate?: RedisClient;
  private reachable?: Promise<void>;

  constructor(
    connection: BullmqConnection,
    private readonly config: BullmqConnectionsConfig = {},
  ) {
    this.factory = new RedisConnectionFactory(connection);
  }

  private get connectTimeoutMs(): number {
    return this.config.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
  }

  /** A Redis Cluster (given as `cluster: { nodes }` or as the host's ioredis Cluster). */
  get isCluster(): boolean {
    return this.factory.isCluster;
  }

  get target(): RedisTarget {
    return this.factory.target;
  }

  /**
   * What a BullMQ Queue or Worker takes as `connection`. Queues share the commands client (BullMQ never closes an
   * instance it was given). A Worker needs connections of its own: options for one server or Sentinel, which
   * BullMQ turns into clients it closes; otherwise a lazy template that BullMQ duplicates and that never connects.
   */
  bullmq(role: 'queue' | 'worker'): ConnectionOptions {
    if (role === 'queue') return this.commands();
    const target = this.factory.target;
    // NOTE: ioredis' and BullMQ's option types differ in details only (BullMQ passes these on to ioredis).
    if (target.kind === 'server')
      return (target.url ? { url: target.url, ...target.options } : target.options) as ConnectionOptions;
    if (target.kind === 'sentinel') return target.options as ConnectionOptions;
    // NOTE: a Worker refuses an instance whose maxRetriesPerRequest is not null (it blocks on it).
    if (!this.workerTemplate) {
      this.workerTemplate = this.factory.create('worker', { maxRetriesPerRequest: null, lazyConnect: true });
      this.owned.push(this.workerTemplate);
    }
    return this.workerTemplate;
  }

  /** A new client for `role`; the caller owns it, except `commands` and `subscriber`, which `close()` disconnects. */
  createClient(role: Exclude<RedisRole, 'queue' | 'worker'>): RedisClient {
    const client = this.factory.create(role, ROLE_OPTIONS(this.connectTimeoutMs)[role]);
    if (role === 'commands' || role === 'subscriber') {
      client.on('error', (error: Error) => this.logger.debug(`Redis (${role}): ${error.message}`));
      this.owned.push(client);
    }
    return client;
  }

  /** Every Queue and the framework's own keys (paused ids, last runs, tombstones): one client, or the host's. */
  commands(): RedisClient {
    if (!this.shared) {
      this.shared = this.factory.shared ?? this.createClient('commands');
      // NOTE: a burst of enqueues (a handler fanning out) leaves in one socket write per 16; the host's client is left
      // as the host made it.
      if (this.shared !== this.factory.shared) groupWrites(this.shared);
    }
    return this.shared;
  }

  /**
   * A Worker's command connection with the writes of one event-loop turn grouped (`groupWrites`): the outcomes and
   * next takes of the runs that end together leave in one socket write per 16.
   */
  grouped<T extends object>(client: T): T {
    return groupWrites(client);
  }

  /** Fails boot with one clear line, in bounded time, when Redis is unreachable or refuses the credentials. Checked once. */
  assertReachable(): Promise<void> {
    this.reachable ??= this.probe();
    return this.reachable;
  }

  /** Disconnects the clients this object owns (BullMQ closes its own; the host's client is the host's). */
  close(): void {
    for (const client of this.owned.splice(0)) client.disconnect();
  }

  private async probe(): Promise<void> {
    const timeoutMs = this.connectTimeoutMs;
    const hostClient = this.factory.shared;
    const client = hostClient ?? this.createClient('probe');
    let lastError: Error | undefined;
    const onError = (error: Error) => {
      lastError = error;
    };
    client.on('error', onError);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (hostClient ? Promise.resolve() : client.connect()).then(() => client.ping()),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      const cause = (lastError ?? (error as Error)).message.replace(/\.$/, '');
      throw new RedisUnreachableError(REDIS_UNREACHABLE(this.factory.describe(), cause));
    } finally {
      if (timer) clearTimeout(timer);
      client.off('error', onError);
      if (!hostClient) client.disconnect();
    }
  }
}
