/* Message factories for transport.connection: boot stops with one of these lines; tests import them. */

export const CONNECTION_SERVER_KEYS = [
  'url',
  'host',
  'port',
  'username',
  'password',
  'db',
  'tls',
  'sentinels',
  'name',
  'sentinelPassword',
  'sentinelUsername',
];

export const CONNECTION_CLUSTER_KEYS = ['nodes', 'options'];

const quoted = (keys: string[]): string => keys.map((key) => `"${key}"`).join(', ');

const shown = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

export const UNKNOWN_CONNECTION_KEY = (path: string, key: string, accepted: string[]): string =>
  `BackgroundJobsModule: transport.${path} has an unknown key "${key}"; accepted: ${quoted(accepted)}. ` +
  'Fix: rename or remove it (a Redis Cluster goes under cluster: { nodes, options }, an ioredis client is passed as the connection itself).';

export const CONFLICTING_CONNECTION_KEYS = (first: string, second: string, why: string): string =>
  `BackgroundJobsModule: transport.connection sets both "${first}" and "${second}": ${why}. Fix: keep one of them.`;

export const INVALID_CONNECTION_VALUE = (path: string, value: unknown, expected: string): string =>
  `BackgroundJobsModule: transport.${path} is ${shown(value)}; expected ${expected}. Fix: correct transport.${path}.`;

export const MISSING_CONNECTION_KEY = (path: string, missing: string, why: string): string =>
  `BackgroundJobsModule: transport.${path} needs "${missing}": ${why}. Fix: add ${missing}.`;

export const EMPTY_CONNECTION = (): string =>
  'BackgroundJobsModule: transport.connection names no Redis. ' +
  "Fix: give url ('redis://host:6379'), host/port, sentinels + name, cluster: { nodes }, or an ioredis client.";

export const CLIENT_KEY_PREFIX = (keyPrefix: string): string =>
  `BackgroundJobsModule: the ioredis client passed as transport.connection has keyPrefix ${shown(keyPrefix)}, which BullMQ refuses. ` +
  'Fix: pass a client without keyPrefix and set transport.prefix instead.';
