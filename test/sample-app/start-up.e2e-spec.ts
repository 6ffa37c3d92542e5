import { freePort } from '../support/redis-server';
import { readSampleConfig } from '../../apps/sample-app/src/sample-app.config';
import { startSampleApp } from './support/sample-app';

describe('sample app start-up', () => {
  it('a database it cannot reach stops start-up with one line naming it and the fix', async () => {
    const port = await freePort();
    const url = `postgres://root:secret@127.0.0.1:${port}/test`;
    const failure = await startSampleApp({ database: { url } }).then(
      () => null,
      (error: Error) => error.message,
    );
    expect(failure).toBe(
      `Sample app cannot reach PostgreSQL at postgres://root:***@127.0.0.1:${port}/test: connect ECONNREFUSED 127.0.0.1:${port}. ` +
        'Fix: start PostgreSQL there, correct DATABASE_URL, or unset DATABASE_URL to use the embedded PGlite.',
    );
  });

  it('a bad JOBS_MODE, JOBS_DISABLED or CLAIM_LEASE_MS stops start-up with one line naming the value and the fix', () => {
    expect(() => readSampleConfig({ JOBS_MODE: 'rollback' })).toThrow(
      'JOBS_MODE "rollback" is not a mode. Fix: set JOBS_MODE to legacy, additive or pipeline (the default).',
    );
    expect(() => readSampleConfig({ JOBS_DISABLED: 'campaign-scheduler' })).toThrow(
      /^JOBS_DISABLED names "campaign-scheduler", which is not a pipeline job\. Fix: use ids among notification-deadletter-cleanup-pipeline, .*campaign-scheduler-pipeline/,
    );
    expect(() => readSampleConfig({ JOBS_MODE: 'legacy', JOBS_DISABLED: 'campaign-scheduler-pipeline' })).toThrow(
      /legacy mode already disables every pipeline job\. Fix: unset JOBS_DISABLED, or use JOBS_MODE=pipeline or additive\.$/,
    );
    expect(() => readSampleConfig({ CLAIM_LEASE_MS: '5m' })).toThrow(
      'CLAIM_LEASE_MS "5m" is not a lease. Fix: an integer number of milliseconds ≥ 100 (default 300000).',
    );
    expect(readSampleConfig({})).toMatchObject({
      mode: 'pipeline',
      disabled: [],
      redis: undefined,
      database: { url: undefined },
      domain: {},
    });
    expect(
      readSampleConfig({
        JOBS_MODE: 'additive',
        JOBS_DISABLED: ' campaign-scheduler-pipeline, tenant-daily-digest-pipeline ',
        CLAIM_LEASE_MS: '60000',
      }),
    ).toMatchObject({
      mode: 'additive',
      disabled: ['campaign-scheduler-pipeline', 'tenant-daily-digest-pipeline'],
      domain: { claimLeaseMs: 60_000 },
    });
  });

  it('REDIS_CLUSTER_NODES or REDIS_SENTINELS + REDIS_SENTINEL_NAME pick the Redis; contradictory or malformed ones stop start-up with one line and the fix', () => {
    const one = 'Fix: set only one of REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS (with REDIS_SENTINEL_NAME).';
    expect(() =>
      readSampleConfig({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000' }),
    ).toThrow(`REDIS_URL and REDIS_CLUSTER_NODES are set together, and the sample app runs on one Redis. ${one}`);
    expect(() =>
      readSampleConfig({
        REDIS_CLUSTER_NODES: '127.0.0.1:7000',
        REDIS_SENTINELS: '127.0.0.1:26379',
        REDIS_SENTINEL_NAME: 'mymaster',
      }),
    ).toThrow(`REDIS_CLUSTER_NODES and REDIS_SENTINELS are set together, and the sample app runs on one Redis. ${one}`);
    expect(() => readSampleConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000, node-2' })).toThrow(
      'REDIS_CLUSTER_NODES entry "node-2" is not host:port. Fix: set REDIS_CLUSTER_NODES to comma-separated host:port pairs, e.g. 10.0.0.1:6379,10.0.0.2:6379.',
    );
    expect(() => readSampleConfig({ REDIS_SENTINELS: '127.0.0.1:70000', REDIS_SENTINEL_NAME: 'mymaster' })).toThrow(
      /^REDIS_SENTINELS entry "127\.0\.0\.1:70000" is not host:port\. Fix: /,
    );
    expect(() => readSampleConfig({ REDIS_SENTINELS: '127.0.0.1:26379' })).toThrow(
      'REDIS_SENTINELS is set without REDIS_SENTINEL_NAME. Fix: set REDIS_SENTINEL_NAME to the master name the sentinels monitor (sentinel monitor <name> …).',
    );
    expect(() => readSampleConfig({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_SENTINEL_NAME: 'mymaster' })).toThrow(
      'REDIS_SENTINEL_NAME=mymaster is set without REDIS_SENTINELS. Fix: set REDIS_SENTINELS=host:port,… of the sentinels, or unset REDIS_SENTINEL_NAME.',
    );
    expect(readSampleConfig({ REDIS_CLUSTER_NODES: ' 10.0.0.1:7000,redis-2:7001 ' }).redis).toEqual({
      cluster: {
        nodes: [
          { host: '10.0.0.1', port: 7000 },
          { host: 'redis-2', port: 7001 },
        ],
      },
    });
    expect(readSampleConfig({ REDIS_SENTINELS: 's1:26379,s2:26380', REDIS_SENTINEL_NAME: 'mymaster' }).redis).toEqual({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      name: 'mymaster',
    });
    expect(readSampleConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redis).toEqual({ url: 'redis://127.0.0.1:6379' });
  });
});
