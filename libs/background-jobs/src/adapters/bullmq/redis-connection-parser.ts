import type { Cluster, ClusterOptions, Redis as IORedis, RedisOptions } from 'ioredis';
import {
  BullmqConnection,
  CLIENT_KEY_PREFIX,
  CONFLICTING_CONNECTION_KEYS,
  CONNECTION_CLUSTER_KEYS,
  CONNECTION_SERVER_KEYS,
  EMPTY_CONNECTION,
  INVALID_CONNECTION_VALUE,
  JobDefinitionError,
  MISSING_CONNECTION_KEY,
  RedisClientInstance,
  RedisNodeAddress,
  UNKNOWN_CONNECTION_KEY,
} from '../../contracts';
import { rejectUnknownKeys } from '../../core';
import type { RedisClient } from './redis-connection';

// NOTE: `transport.connection` parsed and validated at boot; redis-connection.ts turns the result into clients.

/** transport.connection, validated and sorted by kind. */
export type RedisTarget =
  | { kind: 'server'; url?: string; options: RedisOptions }
  | { kind: 'sentinel'; options: RedisOptions }
  | { kind: 'cluster'; nodes: RedisNodeAddress[]; options: ClusterOptions }
  | { kind: 'client'; client: RedisClient };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An ioredis Redis or Cluster (from any copy of ioredis: checked by shape, not by class). */
export function isRedisClient(value: unknown): value is RedisClientInstance {
  return (
    isObject(value) &&
    typeof value.duplicate === 'function' &&
    typeof value.status === 'string' &&
    typeof value.isCluster === 'boolean'
  );
}

/**
 * Validates `transport.connection` (boot time): an unknown key, a contradiction or a bad value throws one line
 * naming it and what is accepted. Nothing falls back to a default Redis.
 */
export function parseConnection(connection: BullmqConnection | unknown): RedisTarget {
  if (isRedisClient(connection)) {
    const client = connection as unknown as RedisClient;
    const keyPrefix =
      (client.isCluster ? (client as Cluster).options.keyPrefix : (client as IORedis).options.keyPrefix) ?? '';
    if (keyPrefix) throw new JobDefinitionError(CLIENT_KEY_PREFIX(keyPrefix));
    return { kind: 'client', client };
  }
  if (!isObject(connection)) {
    throw new JobDefinitionError(
      INVALID_CONNECTION_VALUE(
        'connection',
        connection,
        "an object such as { url: 'redis://127.0.0.1:6379' } or an ioredis client",
      ),
    );
  }
  const keys = Object.keys(connection).filter((key) => connection[key] !== undefined);
  if (keys.includes('cluster')) {
    const other = keys.find((key) => key !== 'cluster');
    if (other) {
      if (!CONNECTION_SERVER_KEYS.includes(other))
        throw new JobDefinitionError(
          UNKNOWN_CONNECTION_KEY('connection', other, ['cluster', ...CONNECTION_SERVER_KEYS]),
        );
      const why =
        other === 'tls' || other === 'username' || other === 'password'
          ? `a cluster's ${other} goes under cluster.options.redisOptions.${other}`
          : 'a cluster is reached through cluster.nodes, not one server';
      throw new JobDefinitionError(CONFLICTING_CONNECTION_KEYS('cluster', other, why));
    }
    return parseCluster(connection.cluster);
  }
  rejectUnknownKeys(
    Object.fromEntries(keys.map((key) => [key, connection[key]])),
    CONNECTION_SERVER_KEYS,
    (key) => new JobDefinitionError(UNKNOWN_CONNECTION_KEY('connection', key, ['cluster', ...CONNECTION_SERVER_KEYS])),
  );
  if (keys.length === 0) throw new JobDefinitionError(EMPTY_CONNECTION());
  const { url, host, port, username, password, db, tls, sentinels, name, sentinelPassword, sentinelUsername } =
    connection;
  for (const [key, value] of Object.entries({ host, username, password, name, sentinelPassword, sentinelUsername })) {
    if (value !== undefined && typeof value !== 'string')
      throw new JobDefinitionError(INVALID_CONNECTION_VALUE(`connection.${key}`, value, 'a string'));
  }
  if (port !== undefined && !isPort(port))
    throw new JobDefinitionError(INVALID_CONNECTION_VALUE('connection.port', port, 'an integer from 1 to 65535'));
  if (db !== undefined && !(Number.isInteger(db) && (db as number) >= 0)) {
    throw new JobDefinitionError(INVALID_CONNECTION_VALUE('connection.db', db, 'an integer ≥ 0'));
  }
  if (tls !== undefined && !isObject(tls)) {
    throw new JobDefinitionError(
      INVALID_CONNECTION_VALUE('connection.tls', tls, 'an object of TLS options ({} for the defaults)'),
    );
  }
  const options: RedisOptions = {};
  if (username !== undefined) options.username = username as string;
  if (password !== undefined) options.password = password as string;
  if (db !== undefined) options.db = db as number;
  if (tls !== undefined) options.tls = tls as RedisOptions['tls'];
  if (
    sentinels !== undefined ||
    name !== undefined ||
    sentinelPassword !== undefined ||
    sentinelUsername !== undefined
  ) {
    if (sentinels === undefined) {
      const given =
        name !== undefined ? 'name' : sentinelPassword !== undefined ? 'sentinelPassword' : 'sentinelUsername';
      throw new JobDefinitionError(
        MISSING_CONNECTION_KEY('connection', 'sentinels', `"${given}" is a Sentinel setting`),
      );
    }
    const clash = ['url', 'host', 'port'].find((key) => connection[key] !== undefined);
    if (clash)
      throw new JobDefinitionError(
        CONFLICTING_CONNECTION_KEYS('sentinels', clash, 'the sentinels name the master to connect to'),
      );
    if (name === undefined || name === '') {
      throw new JobDefinitionError(
        MISSING_CONNECTION_KEY('connection', 'name', 'the sentinels watch masters by name (sentinel monitor <name> …)'),
      );
    }
    options.sentinels = parseNodes('connection.sentinels', sentinels);
    options.name = name as string;
    if (sentinelPassword !== undefined) options.sentinelPassword = sentinelPassword as string;
    if (sentinelUsername !== undefined) options.sentinelUsername = sentinelUsername as string;
    // NOTE: ioredis uses `tls` for the master only with this flag; the sentinels keep plain TCP unless `sentinelTLS`.
    if (tls !== undefined) options.enableTLSForSentinelMode = true;
    return { kind: 'sentinel', options };
  }
  if (url === undefined) {
    options.host = (host as string | undefined) ?? '127.0.0.1';
    options.port = (port as number | undefined) ?? 6379;
    return { kind: 'server', options };
  }
  if (typeof url !== 'string')
    throw new JobDefinitionError(
      INVALID_CONNECTION_VALUE('connection.url', url, "a string such as 'redis://127.0.0.1:6379'"),
    );
  const parsed = parseUrl(url);
  for (const key of ['host', 'port'] as const) {
    if (connection[key] !== undefined)
      throw new JobDefinitionError(CONFLICTING_CONNECTION_KEYS('url', key, 'the URL names the server already'));
  }
  if (parsed.hasAuth) {
    const clash = username !== undefined ? 'username' : password !== undefined ? 'password' : undefined;
    if (clash)
      throw new JobDefinitionError(
        CONFLICTING_CONNECTION_KEYS('url', clash, 'the URL carries credentials already (they would win)'),
      );
  }
  if (parsed.hasDb && db !== undefined)
    throw new JobDefinitionError(CONFLICTING_CONNECTION_KEYS('url', 'db', 'the URL names a database already (/n)'));
  if (!parsed.tls && tls !== undefined) {
    throw new JobDefinitionError(
      CONFLICTING_CONNECTION_KEYS('url', 'tls', 'a redis:// URL is plain text; use rediss:// for TLS'),
    );
  }
  return { kind: 'server', url, options };
}

function parseCluster(cluster: unknown): RedisTarget {
  if (!isObject(cluster))
    throw new JobDefinitionError(
      INVALID_CONNECTION_VALUE('connection.cluster', cluster, '{ nodes: [{ host, port }], options? }'),
    );
  rejectUnknownKeys(
    cluster,
    CONNECTION_CLUSTER_KEYS,
    (key, _value, known) => new JobDefinitionError(UNKNOWN_CONNECTION_KEY('connection.cluster', key, [...known])),
  );
  if (cluster.nodes === undefined)
    throw new JobDefinitionError(
      MISSING_CONNECTION_KEY(
        'connection.cluster',
        'nodes',
        'the client needs at least one node to discover the cluster',
      ),
    );
  const nodes = parseNodes('connection.cluster.nodes', cluster.nodes);
  const options = cluster.options ?? {};
  if (!isObject(options))
    throw new JobDefinitionError(
      INVALID_CONNECTION_VALUE('connection.cluster.options', options, 'an object of ioredis ClusterOptions'),
    );
  if (options.redisOptions !== undefined && !isObject(options.redisOptions)) {
    throw new JobDefinitionError(
      INVALID_CONNECTION_VALUE(
        'connection.cluster.options.redisOptions',
        options.redisOptions,
        'an object of ioredis options',
      ),
    );
  }
  if (isObject(options.redisOptions) && options.redisOptions.keyPrefix)
    throw new JobDefinitionError(CLIENT_KEY_PREFIX(String(options.redisOptions.keyPrefix)));
  if (options.keyPrefix) throw new JobDefinitionError(CLIENT_KEY_PREFIX(String(options.keyPrefix)));
  return { kind: 'cluster', nodes, options: options as ClusterOptions };
}

function parseNodes(path: string, nodes: unknown): RedisNodeAddress[] {
  const expected = 'a non-empty array of { host, port }';
  if (!Array.isArray(nodes) || nodes.length === 0)
    throw new JobDefinitionError(INVALID_CONNECTION_VALUE(path, nodes, expected));
  return nodes.map((node, i) => {
    if (!isObject(node) || typeof node.host !== 'string' || !node.host || !isPort(node.port)) {
      throw new JobDefinitionError(INVALID_CONNECTION_VALUE(`${path}[${i}]`, node, '{ host: string, port: 1–65535 }'));
    }
    rejectUnknownKeys(
      node,
      ['host', 'port'],
      (key, _value, known) => new JobDefinitionError(UNKNOWN_CONNECTION_KEY(`${path}[${i}]`, key, [...known])),
    );
    return { host: node.host, port: node.port as number };
  });
}

function parseUrl(url: string): { tls: boolean; hasAuth: boolean; hasDb: boolean } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new JobDefinitionError(
      INVALID_CONNECTION_VALUE('connection.url', redact(url), 'a URL such as redis://host:6379 or rediss://host:6380'),
    );
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new JobDefinitionError(
      INVALID_CONNECTION_VALUE('connection.url', redact(url), 'a redis:// or rediss:// URL'),
    );
  }
  if (!parsed.hostname)
    throw new JobDefinitionError(
      INVALID_CONNECTION_VALUE('connection.url', redact(url), 'a URL with a host, such as redis://127.0.0.1:6379'),
    );
  return {
    tls: parsed.protocol === 'rediss:',
    hasAuth: !!(parsed.username || parsed.password),
    hasDb: parsed.pathname.length > 1,
  };
}

const isPort = (value: unknown): boolean =>
  Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65_535;

/** A URL without its credentials, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
