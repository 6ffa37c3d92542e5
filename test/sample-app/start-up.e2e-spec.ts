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
    expect(() => readSampleConfig({ JOBS_MODE: 'rollback' })).toThrow('JOBS_MODE "rollback" is not a mode. Fix: set JOBS_MODE to legacy, additive or pipeline (the default).');
    expect(() => readSampleConfig({ JOBS_DISABLED: 'campaign-scheduler' })).toThrow(
      /^JOBS_DISABLED names "campaign-scheduler", which is not a pipeline job\. Fix: use ids among notification-deadletter-cleanup-pipeline, .*campaign-scheduler-pipeline/,
    );
    expect(() => readSampleConfig({ JOBS_MODE: 'legacy', JOBS_DISABLED: 'campaign-scheduler-pipeline' })).toThrow(
      /legacy mode already disables every pipeline job\. Fix: unset JOBS_DISABLED, or use JOBS_MODE=pipeline or additive\.$/,
    );
    expect(() => readSampleConfig({ CLAIM_LEASE_MS: '5m' })).toThrow('CLAIM_LEASE_MS "5m" is not a lease. Fix: an integer number of milliseconds ≥ 100 (default 300000).');
    expect(readSampleConfig({})).toMatchObject({ mode: 'pipeline', disabled: [], redisUrl: undefined, database: { url: undefined }, domain: {} });
    expect(readSampleConfig({ JOBS_MODE: 'additive', JOBS_DISABLED: ' campaign-scheduler-pipeline, tenant-daily-digest-pipeline ', CLAIM_LEASE_MS: '60000' })).toMatchObject({
      mode: 'additive',
      disabled: ['campaign-scheduler-pipeline', 'tenant-daily-digest-pipeline'],
      domain: { claimLeaseMs: 60_000 },
    });
  });
});
