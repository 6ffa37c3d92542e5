/** A Redis server or Sentinel address. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/**
 * TLS options, as ioredis hands them to Node's `tls.connect`: the usual ones are listed, any other `tls.connect`
 * option passes through. `{}` turns TLS on with Node's bundled certificate authorities.
 */
export interface RedisTlsOptions {
  /**
   * Certificate authorities to trust (PEM), e.g. a managed service's CA bundle or a self-signed certificate.
   * @default undefined (Node's bundled CAs)
   */
  ca?: string | Buffer | Array<string | Buffer>;
  /**
   * Client certificate (PEM), for servers that require one (`tls-auth-clients yes`).
   * @default undefined (no client certificate)
   */
  cert?: string | Buffer | Array<string | Buffer>;
  /**
   * Private key of `cert` (PEM).
   * @default undefined
   */
  key?: string | Buffer | Array<string | Buffer>;
  /**
   * Server name for SNI and certificate checks, when it differs from the host connected to.
   * @default undefined (the host)
   */
  servername?: string;
  /**
   * Refuse a server whose certificate does not verify. Leave it on in production.
   * @default true
   */
  rejectUnauthorized?: boolean;
  /** Any other `tls.connect` option. */
  [option: string]: unknown;
}

/**
 * One Redis server, by URL or by fields, or a Sentinel-managed master (`sentinels` + `name`).
 * Keys outside this list stop the boot.
 */
export interface RedisConnectionOptions {
  /**
   * `redis://[[user]:password@]host[:port][/db]`, or `rediss://…` for TLS. Not combined with host, port or
   * sentinels; username, password and db only when the URL has none of its own.
   * @default undefined (use host, port, …)
   */
  url?: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 6379 */
  port?: number;
  /** @default undefined (no AUTH) */
  password?: string;
  /** @default undefined (the `default` ACL user) */
  username?: string;
  /** @default 0 */
  db?: number;
  /**
   * TLS to the server (and, with `sentinels`, to the master they name). A `rediss://` URL turns TLS on by itself;
   * add `tls` there only for a CA or client certificate.
   * @default undefined (plain TCP, unless the URL is rediss://)
   */
  tls?: RedisTlsOptions;
  /**
   * Sentinels to ask for the current master of `name`; with them, host and port are not used.
   * @default undefined (no Sentinel)
   */
  sentinels?: RedisNodeAddress[];
  /**
   * Master name the sentinels monitor (`sentinel monitor <name> …`); required with `sentinels`.
   * @default undefined
   */
  name?: string;
  /**
   * Password of the sentinels themselves (`requirepass` in sentinel.conf), when they have one.
   * @default undefined (no AUTH to sentinels)
   */
  sentinelPassword?: string;
  /**
   * ACL user of the sentinels, when they have one.
   * @default undefined (the `default` ACL user)
   */
  sentinelUsername?: string;
}

/**
 * ioredis `ClusterOptions` (see ioredis' docs): the usual ones are listed, any other ClusterOptions key passes
 * through to ioredis.
 */
export interface RedisClusterOptions {
  /**
   * Options of the connection to each node: `username`, `password`, `tls` for managed clusters.
   * @default undefined (no AUTH, no TLS)
   */
  redisOptions?: { username?: string; password?: string; tls?: RedisTlsOptions; [option: string]: unknown };
  /**
   * Maps the addresses the cluster announces to reachable ones (NAT, Docker, a cluster behind a proxy).
   * @default undefined (use the announced addresses)
   */
  natMap?: Record<string, RedisNodeAddress>;
  /**
   * Resolve node hostnames through this function (for AWS ElastiCache with TLS: `(address, cb) => cb(null, address)`).
   * @default undefined (ioredis' default lookup)
   */
  dnsLookup?: (address: string, callback: (error: Error | null, address: string, family?: number) => void) => void;
  /** Any other ioredis ClusterOptions key. */
  [option: string]: unknown;
}

/** A Redis Cluster, reached through any of its nodes. */
export interface RedisClusterConnectionOptions {
  cluster: {
    /** Startup nodes: one reachable node is enough, the client discovers the rest. */
    nodes: RedisNodeAddress[];
    /** @default undefined (ioredis defaults) */
    options?: RedisClusterOptions;
  };
}

/**
 * An ioredis `Redis` or `Cluster` the host already holds. The library runs its commands on it, opens duplicates
 * for what must not share it (blocking reads, pub/sub) and never closes it: the host does.
 */
export interface RedisClientInstance {
  readonly isCluster: boolean;
  readonly status: string;
  readonly options: object;
  duplicate(...args: never[]): unknown;
}

/** What `transport.connection` accepts. */
export type BullmqConnection = RedisConnectionOptions | RedisClusterConnectionOptions | RedisClientInstance;
