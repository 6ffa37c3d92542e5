import { TestingModule } from '@nestjs/testing';
import IORedis from 'ioredis';
import { monitorEventLoopDelay } from 'node:perf_hooks';
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
    // NOTE: both workers' timers run in this process; on a loaded host they fire late by as much as its event loop
    // is held up, which is measured over the same window and added to the bound.
    // NOTE: the check times are Redis's own (MONITOR); a redis-server held off the CPU stamps a check late, so the
    // longest PING round trip over the same window is added too.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const probe = new IORedis(testRedisUrl());
    clients.push(probe);
    let redisLateMs = 0;
    let probing = true;
    const probing$ = (async () => {
      while (probing) {
        const sent = performance.now();
        await probe.ping();
        redisLateMs = Math.max(redisLateMs, performance.now() - sent);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    await waitFor(`${CHECKS} stalled checks`, () => checksAt.length >= CHECKS, 30_000);
    probing = false;
    await probing$;
    loopDelay.disable();

    const gaps = checksAt.slice(1, CHECKS).map((at, i) => at - checksAt[i]);
    const lateMs = loopDelay.max / 1e6;
    // NOTE: 50 ms for the drift of a worker's interval timer (it restarts after each check's round trip), plus the
    // longest the event loop was held up. A check every full interval (not every half) gives gaps near 2 × 400 ms.
    const bound = INTERVAL_MS + 50 + lateMs + redisLateMs;
    process.stdout.write(
      `[stalled] ${gaps.length} gaps between checks: max ${Math.max(...gaps).toFixed(1)} ms, bound ${INTERVAL_MS} ms + 50 ms timer drift + ${lateMs.toFixed(1)} ms event-loop delay + ${redisLateMs.toFixed(1)} ms longest PING\n`,
    );
    expect(Math.max(...gaps)).toBeLessThanOrEqual(bound);
  }, 40_000);
});
