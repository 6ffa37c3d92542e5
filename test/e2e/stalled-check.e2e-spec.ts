import { TestingModule } from '@nestjs/testing';
import IORedis from 'ioredis';
import { defineJob, startJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../support/redis';

/**
 * How soon a dead instance's run can be noticed depends on the gap between stalled checks across all instances.
 * BullMQ guards each check with a key that lives one interval and skips a check that finds it, so at BullMQ's own
 * interval a gap of two intervals happens whenever a check lands on the key's last millisecond.
 */
describe('stalled checks', () => {
  let prefix: string;
  const apps: TestingModule[] = [];
  const clients: IORedis[] = [];

  beforeEach(() => {
    prefix = randomPrefix('stalled');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    clients.splice(0).forEach((client) => client.disconnect());
    await deletePrefix(prefix);
  });

  it('two instances: the gap between stalled checks never exceeds worker.stalledIntervalMs', async () => {
    const INTERVAL_MS = 400;
    const CHECKS = 40;
    // NOTE: monitor() opens a second connection of its own; both are closed after the test.
    const redis = new IORedis(testRedisUrl());
    const monitor = await redis.monitor();
    clients.push(redis, monitor);
    const guardKey = `${prefix}:background-jobs:stalled-check`;
    const checksAt: number[] = [];
    monitor.on('monitor', (time: string, args: string[]) => {
      if (String(args[0]).toLowerCase() === 'set' && args[1] === guardKey) checksAt.push(Number(time) * 1000);
    });

    const Job = defineJob('IdleJob', { id: 'idle' });
    const worker = { lockDurationMs: 1_000, stalledIntervalMs: INTERVAL_MS };
    apps.push(await startJobsApp({ prefix, jobs: [Job], worker }), await startJobsApp({ prefix, jobs: [Job], worker }));
    await waitFor(`${CHECKS} stalled checks`, () => checksAt.length >= CHECKS, 30_000);

    const gaps = checksAt.slice(1, CHECKS).map((at, i) => at - checksAt[i]);
    // NOTE: 50 ms for the drift of a worker's interval timer (it restarts after each check's round trip).
    expect(Math.max(...gaps)).toBeLessThanOrEqual(INTERVAL_MS + 50);
    process.stdout.write(
      `[stalled] ${gaps.length} gaps between checks: max ${Math.max(...gaps).toFixed(1)} ms, bound ${INTERVAL_MS} ms + 50 ms timer drift\n`,
    );
  }, 40_000);
});
