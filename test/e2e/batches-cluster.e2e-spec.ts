import { TestingModule } from '@nestjs/testing';
import { BackgroundJobs, BatchSummary } from 'nestjs-background-jobs';
import { defineJob, startJobsApp } from '../support/jobs-app';
import { randomPrefix, waitFor } from '../support/redis';
import { RedisTopology, sharedTopology } from '../support/redis-topology';

/** Batches on a Redis Cluster: the batch's keys share its hash tag, so the counting script runs on one slot. */
describe('batches on a Redis Cluster', () => {
  let topology: RedisTopology;
  let prefix: string;
  const apps: TestingModule[] = [];

  beforeAll(async () => {
    topology = await sharedTopology('cluster');
  }, 60_000);
  afterAll(async () => {
    await topology?.destroy();
  });
  beforeEach(() => {
    prefix = randomPrefix('batch-cluster');
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await topology.deletePrefix(prefix);
  });

  it('children on two queues (two slots), one failing: onComplete once with the counts; the batch keys share one slot', async () => {
    const seen: (BatchSummary | undefined)[] = [];
    const A = defineJob('ClusterChildA', { id: 'child-a', queue: 'batch-a', retry: { attempts: 1 } }, (ctx) => {
      if ((ctx.data as { fail?: boolean } | undefined)?.fail) throw new Error('fails by design');
    });
    const B = defineJob('ClusterChildB', { id: 'child-b', queue: 'batch-b' });
    const Done = defineJob('ClusterBatchDone', { id: 'cluster-done' }, (ctx) => {
      seen.push(ctx.batch);
    });
    for (let i = 0; i < 2; i++) {
      apps.push(await startJobsApp({ prefix, jobs: [A, B, Done], connection: topology.connection }));
    }
    const jobs = apps[0].get(BackgroundJobs);

    const { batchId } = await jobs.batch(
      [
        ...Array.from({ length: 5 }, (_, n) => ({ job: 'child-a', data: n === 0 ? { fail: true } : {} })),
        ...Array.from({ length: 5 }, () => ({ job: 'child-b' })),
      ],
      { onComplete: { job: 'cluster-done' } },
    );

    await waitFor('the callback ran', () => (seen.length ? true : null), 20_000);
    await waitFor(
      'the callback completed',
      async () => ((await jobs.getExecution(`${batchId}.complete`))?.state === 'completed' ? true : null),
      10_000,
    );
    expect(seen).toEqual([{ batchId, total: 10, completed: 9, failed: 1, cancelled: 0, pending: 0, state: 'failed' }]);
    const client = topology.client();
    try {
      const stateKey = `${prefix}:bgj:batch:{${batchId}}:state`;
      const endedKey = `${prefix}:bgj:batch:{${batchId}}:ended`;
      const [stateSlot, endedSlot] = await Promise.all([
        client.call('CLUSTER', 'KEYSLOT', stateKey),
        client.call('CLUSTER', 'KEYSLOT', endedKey),
      ]);
      expect(stateSlot).toBe(endedSlot);
      expect(await client.hget(stateKey, 'callbacks')).toBe('enqueued');
    } finally {
      client.disconnect();
    }
  }, 60_000);

  it('timeoutMs on a Cluster: the deadline set and the batch keys in different slots; onComplete once with the child that never ends cancelled', async () => {
    const seen: (BatchSummary | undefined)[] = [];
    const Quick = defineJob('ClusterQuickChild', { id: 'quick', queue: 'batch-a' });
    const Stuck = defineJob(
      'ClusterStuckChild',
      { id: 'stuck', queue: 'batch-b', timeoutMs: 60_000 },
      (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    );
    const Done = defineJob('ClusterTimeoutDone', { id: 'cluster-timeout-done' }, (ctx) => {
      seen.push(ctx.batch);
    });
    for (let i = 0; i < 2; i++) {
      apps.push(await startJobsApp({ prefix, jobs: [Quick, Stuck, Done], connection: topology.connection }));
    }
    const jobs = apps[0].get(BackgroundJobs);
    const timeoutMs = 1_500;
    const started = Date.now();

    const { batchId } = await jobs.batch([{ job: 'quick' }, { job: 'stuck' }], {
      onComplete: { job: 'cluster-timeout-done' },
      timeoutMs,
    });

    // NOTE: bound: the timeout, a 500 ms sweep, the abort and the callback's run on a loaded machine (8 s margin).
    await waitFor('the callback ran', () => (seen.length ? true : null), timeoutMs + 8_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(timeoutMs);
    expect(seen).toEqual([{ batchId, total: 2, completed: 1, failed: 0, cancelled: 1, pending: 0, state: 'failed' }]);
    await waitFor(
      'the stuck child ended cancelled',
      async () => ((await jobs.getExecution(`${batchId}.1`))?.state === 'cancelled' ? true : null),
      8_000,
    );
    expect(seen).toHaveLength(1);
  }, 60_000);
});
