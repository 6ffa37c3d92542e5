import IORedis, { Cluster } from 'ioredis';
import {
  CLIENT_KEY_PREFIX,
  CONFLICTING_CONNECTION_KEYS,
  CONNECTION_CLUSTER_KEYS,
  CONNECTION_SERVER_KEYS,
  EMPTY_CONNECTION,
  INVALID_CONNECTION_VALUE,
  JobDefinitionError,
  MISSING_CONNECTION_KEY,
  UNKNOWN_CONNECTION_KEY,
} from '../../contracts';
import { RedisConnectionFactory } from './redis-connection';
import { parseConnection } from './redis-connection-parser';

const ALL_KEYS = ['cluster', ...CONNECTION_SERVER_KEYS];

function errorOf(connection: unknown): JobDefinitionError {
  try {
    parseConnection(connection);
  } catch (error) {
    return error as JobDefinitionError;
  }
  throw new Error(`parseConnection accepted ${JSON.stringify(connection)}`);
}

describe('transport.connection validation', () => {
  describe('refuses, with one line naming the key and what is accepted', () => {
    it.each([
      [
        'an unknown top-level key',
        { url: 'redis://127.0.0.1:6379', hots: 'x' },
        UNKNOWN_CONNECTION_KEY('connection', 'hots', ALL_KEYS),
      ],
      [
        'ioredis-only keys it would silently ignore',
        { host: 'x', maxRetriesPerRequest: 1 },
        UNKNOWN_CONNECTION_KEY('connection', 'maxRetriesPerRequest', ALL_KEYS),
      ],
      [
        'an unknown key under cluster',
        { cluster: { nodes: [{ host: 'a', port: 1 }], natmap: {} } },
        UNKNOWN_CONNECTION_KEY('connection.cluster', 'natmap', CONNECTION_CLUSTER_KEYS),
      ],
      [
        'an unknown key in a node',
        { cluster: { nodes: [{ host: 'a', port: 1, tls: true }] } },
        UNKNOWN_CONNECTION_KEY('connection.cluster.nodes[0]', 'tls', ['host', 'port']),
      ],
      [
        'cluster next to an unknown key',
        { cluster: { nodes: [{ host: 'a', port: 1 }] }, nodes: [] },
        UNKNOWN_CONNECTION_KEY('connection', 'nodes', ALL_KEYS),
      ],
    ])('%s', (_what, connection, message) => {
      const error = errorOf(connection);
      expect(error).toBeInstanceOf(JobDefinitionError);
      expect(error.message).toBe(message);
      expect(error.message.split('\n')).toHaveLength(1);
      expect(error.message).toMatch(/Fix: .+\.$/);
    });
  });

  describe('refuses contradictions instead of picking one', () => {
    it.each([
      [
        'url and cluster',
        { url: 'redis://a:6379', cluster: { nodes: [{ host: 'a', port: 1 }] } },
        CONFLICTING_CONNECTION_KEYS('cluster', 'url', 'a cluster is reached through cluster.nodes, not one server'),
      ],
      [
        'cluster and tls at the top',
        { cluster: { nodes: [{ host: 'a', port: 1 }] }, tls: {} },
        CONFLICTING_CONNECTION_KEYS('cluster', 'tls', "a cluster's tls goes under cluster.options.redisOptions.tls"),
      ],
      [
        'url and host',
        { url: 'redis://a:6379', host: 'b' },
        CONFLICTING_CONNECTION_KEYS('url', 'host', 'the URL names the server already'),
      ],
      [
        'url and port',
        { url: 'redis://a:6379', port: 6380 },
        CONFLICTING_CONNECTION_KEYS('url', 'port', 'the URL names the server already'),
      ],
      [
        'URL credentials and a password',
        { url: 'redis://u:p@a:6379', password: 'q' },
        CONFLICTING_CONNECTION_KEYS('url', 'password', 'the URL carries credentials already (they would win)'),
      ],
      [
        'a URL database and db',
        { url: 'redis://a:6379/2', db: 3 },
        CONFLICTING_CONNECTION_KEYS('url', 'db', 'the URL names a database already (/n)'),
      ],
      [
        'a redis:// URL and tls',
        { url: 'redis://a:6379', tls: {} },
        CONFLICTING_CONNECTION_KEYS('url', 'tls', 'a redis:// URL is plain text; use rediss:// for TLS'),
      ],
      [
        'sentinels and host',
        { sentinels: [{ host: 'a', port: 1 }], name: 'm', host: 'b' },
        CONFLICTING_CONNECTION_KEYS('sentinels', 'host', 'the sentinels name the master to connect to'),
      ],
      [
        'sentinels and url',
        { sentinels: [{ host: 'a', port: 1 }], name: 'm', url: 'redis://b' },
        CONFLICTING_CONNECTION_KEYS('sentinels', 'url', 'the sentinels name the master to connect to'),
      ],
    ])('%s', (_what, connection, message) => {
      expect(errorOf(connection).message).toBe(message);
    });
  });

  describe('refuses incomplete or mistyped settings', () => {
    it.each([
      ['an empty object (never a silent localhost)', {}, EMPTY_CONNECTION()],
      [
        'sentinels without name',
        { sentinels: [{ host: 'a', port: 1 }] },
        MISSING_CONNECTION_KEY('connection', 'name', 'the sentinels watch masters by name (sentinel monitor <name> …)'),
      ],
      [
        'name without sentinels',
        { host: 'a', name: 'm' },
        MISSING_CONNECTION_KEY('connection', 'sentinels', '"name" is a Sentinel setting'),
      ],
      [
        'sentinelPassword without sentinels',
        { url: 'redis://a', sentinelPassword: 'x' },
        MISSING_CONNECTION_KEY('connection', 'sentinels', '"sentinelPassword" is a Sentinel setting'),
      ],
      [
        'cluster without nodes',
        { cluster: {} },
        MISSING_CONNECTION_KEY(
          'connection.cluster',
          'nodes',
          'the client needs at least one node to discover the cluster',
        ),
      ],
      [
        'empty cluster nodes',
        { cluster: { nodes: [] } },
        INVALID_CONNECTION_VALUE('connection.cluster.nodes', [], 'a non-empty array of { host, port }'),
      ],
      [
        'a node as a string',
        { cluster: { nodes: ['a:1'] } },
        INVALID_CONNECTION_VALUE('connection.cluster.nodes[0]', 'a:1', '{ host: string, port: 1–65535 }'),
      ],
      [
        'a port out of range',
        { host: 'a', port: 70_000 },
        INVALID_CONNECTION_VALUE('connection.port', 70_000, 'an integer from 1 to 65535'),
      ],
      [
        'a port as a string',
        { host: 'a', port: '6379' },
        INVALID_CONNECTION_VALUE('connection.port', '6379', 'an integer from 1 to 65535'),
      ],
      ['a negative db', { host: 'a', db: -1 }, INVALID_CONNECTION_VALUE('connection.db', -1, 'an integer ≥ 0')],
      [
        'tls: true',
        { host: 'a', tls: true },
        INVALID_CONNECTION_VALUE('connection.tls', true, 'an object of TLS options ({} for the defaults)'),
      ],
      [
        'an http URL',
        { url: 'http://a:6379' },
        INVALID_CONNECTION_VALUE('connection.url', 'http://a:6379', 'a redis:// or rediss:// URL'),
      ],
      [
        'a URL that does not parse (password hidden)',
        { url: 'redis://u:secret@' },
        INVALID_CONNECTION_VALUE(
          'connection.url',
          'redis://***@',
          'a URL such as redis://host:6379 or rediss://host:6380',
        ),
      ],
      [
        'a string instead of an object',
        'redis://a:6379',
        INVALID_CONNECTION_VALUE(
          'connection',
          'redis://a:6379',
          "an object such as { url: 'redis://127.0.0.1:6379' } or an ioredis client",
        ),
      ],
      [
        'cluster options that are not an object',
        { cluster: { nodes: [{ host: 'a', port: 1 }], options: 'x' } },
        INVALID_CONNECTION_VALUE('connection.cluster.options', 'x', 'an object of ioredis ClusterOptions'),
      ],
      [
        'a keyPrefix BullMQ would refuse',
        { cluster: { nodes: [{ host: 'a', port: 1 }], options: { keyPrefix: 'x:' } } },
        CLIENT_KEY_PREFIX('x:'),
      ],
    ])('%s', (_what, connection, message) => {
      expect(errorOf(connection).message).toBe(message);
    });

    it('a password never shows in the message', () => {
      expect(errorOf({ url: 'ftp://user:hunter2@a' }).message).not.toContain('hunter2');
    });

    it("the host's client with a keyPrefix (BullMQ refuses it at the first queue)", () => {
      const client = new IORedis({ lazyConnect: true, keyPrefix: 'app:' });
      try {
        expect(errorOf(client).message).toBe(CLIENT_KEY_PREFIX('app:'));
      } finally {
        client.disconnect();
      }
    });
  });

  describe('accepts', () => {
    it.each([
      ['a URL', { url: 'redis://127.0.0.1:6379/2' }, 'server', 'redis://127.0.0.1:6379/2'],
      [
        'a rediss:// URL with a CA',
        { url: 'rediss://:pw@cache.example:6380', tls: { ca: 'PEM' } },
        'server',
        'rediss://***@cache.example:6380',
      ],
      [
        'a URL without credentials plus username and password',
        { url: 'redis://a:6379', username: 'u', password: 'p' },
        'server',
        'redis://a:6379',
      ],
      ['host and port', { host: 'a', port: 6380, db: 1 }, 'server', 'a:6380/1'],
      ['port alone (host 127.0.0.1, as documented)', { port: 6380 }, 'server', '127.0.0.1:6380'],
      [
        'sentinels and name',
        { sentinels: [{ host: 'a', port: 26379 }], name: 'mymaster', sentinelPassword: 's', password: 'p', tls: {} },
        'sentinel',
        'master "mymaster" of sentinels a:26379',
      ],
      [
        'a cluster',
        {
          cluster: {
            nodes: [
              { host: 'a', port: 7000 },
              { host: 'b', port: 7001 },
            ],
            options: { natMap: {} },
          },
        },
        'cluster',
        'cluster a:7000,b:7001',
      ],
      ['undefined keys as absent', { url: 'redis://a:6379', host: undefined }, 'server', 'redis://a:6379'],
    ])('%s', (_what, connection, kind, described) => {
      const factory = new RedisConnectionFactory(connection);
      expect(factory.target.kind).toBe(kind);
      expect(factory.describe()).toBe(described);
    });

    it("the host's ioredis Redis and Cluster, as they are", () => {
      const redis = new IORedis({ lazyConnect: true });
      const cluster = new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true });
      try {
        expect(new RedisConnectionFactory(redis).shared).toBe(redis);
        const clusterFactory = new RedisConnectionFactory(cluster);
        expect(clusterFactory.shared).toBe(cluster);
        expect(clusterFactory.isCluster).toBe(true);
      } finally {
        redis.disconnect();
        cluster.disconnect();
      }
    });
  });
});
