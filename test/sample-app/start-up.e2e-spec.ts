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

  it('JOBS_MODE=legacy without REDIS_URL is refused with one line: the rollback runs on BullMQ only', () => {
    expect(() => readSampleConfig({ JOBS_MODE: 'legacy' })).toThrow(/^JOBS_MODE=legacy needs REDIS_URL: .*Set REDIS_URL, or use JOBS_MODE=pipeline/);
    expect(() => readSampleConfig({ JOBS_MODE: 'rollback' })).toThrow('JOBS_MODE must be "pipeline" (the default) or "legacy" (the rollback), not "rollback".');
    expect(readSampleConfig({})).toMatchObject({ mode: 'pipeline', redisUrl: undefined, database: { url: undefined } });
  });
});
