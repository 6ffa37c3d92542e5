import { BackgroundJobs, BatchSummary } from 'nestjs-background-jobs';
import { defineJob } from '../support/jobs-app';
import { waitFor } from '../support/redis';
import { onSharedCluster } from '../support/cluster-suite';

/** Batches on a Redis Cluster: the batch's keys share its hash tag, so the counting script runs on one slot. */
describe('batches on a Redis Cluster', () => {
  const cluster = onSharedCluster('batch-cluster');

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
      await cluster.start({ jobs: [A, B, Done] });
    }
    const jobs = cluster.apps[0].get(BackgroundJobs);

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
    const client = cluster.topology.client();
    try {
      const stateKey = `${cluster.prefix}:bgj:batch:{${batchId}}:state`;
      const endedKey = `${cluster.prefix}:bgj:batch:{${batchId}}:ended`;
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
      await cluster.start({ jobs: [Quick, Stuck, Done] });
    }
    const jobs = cluster.apps[0].get(BackgroundJobs);
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
