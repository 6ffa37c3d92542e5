import { BackgroundJobs, InvalidJobInputError } from 'nestjs-background-jobs';
import { INVALID_PAYLOAD } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { WRITES_PER_GROUP } from 'nestjs-background-jobs/adapters/bullmq/socket-write-groups';
import { appsPerTest, defineJob } from '../support/jobs-app';
import { socketWritesDuring } from '../support/socket-writes';

// NOTE: a request handler fanning out issues its enqueues in one event-loop turn (and runs that end together, their
// outcomes). They leave for Redis in groups of WRITES_PER_GROUP (Redis starts on the first group while the rest are
// built), and each call still gets its own execution id, its own dedupe answer or its own error.
describe('enqueues and outcomes issued together', () => {
  const { boot } = appsPerTest('coalesce');
  const Job = defineJob('FanOutJob', { id: 'fan-out-job' });

  it('a burst of 500 leaves in a few dozen writes, not one each, and each call resolves its own run', async () => {
    // NOTE: producer only, so the only writes counted are the enqueues' (no worker polling Redis meanwhile).
    const jobs = (await boot({ jobs: [Job], worker: false })).get(BackgroundJobs);
    await jobs.enqueue(Job, { n: -1 });

    const { result: ids, writes } = await socketWritesDuring(() =>
      Promise.all(Array.from({ length: 500 }, (_, n) => jobs.enqueue(Job, { n }))),
    );

    // One write per WRITES_PER_GROUP (16) commands: 32 for 500; a few more may follow when replies and new calls
    // cross. One each would be 500.
    // Not the whole burst in one write either: Redis starts on the first group while the rest are being built.
    expect(writes).toBeLessThanOrEqual(Math.ceil(500 / WRITES_PER_GROUP) + 5);
    expect(writes).toBeGreaterThanOrEqual(Math.floor(500 / WRITES_PER_GROUP));
    expect(new Set(ids).size).toBe(500);
    const executions = await Promise.all(ids.map((id) => jobs.getExecution(id)));
    expect(executions.map((execution) => execution?.state)).toEqual(ids.map(() => 'pending'));
    expect(executions.map((execution) => (execution?.data as { n: number }).n)).toEqual(ids.map((_, n) => n));
  });

  it('a bad payload fails its own call and a dedupe hit answers its own, the others enqueue as usual', async () => {
    const jobs = (await boot({ jobs: [Job], worker: false })).get(BackgroundJobs);

    const settled = await Promise.allSettled([
      jobs.enqueue(Job, { n: 0 }),
      jobs.enqueue(Job, { n: 1 }, { dedupeKey: 'user-7', delayMs: 60_000 }),
      jobs.enqueue(Job, { amount: BigInt(10) }),
      jobs.enqueue(Job, { n: 3 }, { dedupeKey: 'user-7', delayMs: 60_000 }),
      jobs.enqueue(Job, { n: 4 }),
    ]);

    expect(settled.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const value = (i: number) => (settled[i] as PromiseFulfilledResult<string>).value;
    expect((settled[2] as PromiseRejectedResult).reason).toEqual(
      new InvalidJobInputError(INVALID_PAYLOAD('fan-out-job', 'it is not JSON-serialisable (data.amount is a BigInt)')),
    );
    expect(value(3)).toBe(value(1));
    expect(new Set([value(0), value(1), value(4)]).size).toBe(3);
    const [first, deduped, last] = await Promise.all([value(0), value(1), value(4)].map((id) => jobs.getExecution(id)));
    expect([first?.data, deduped?.data, last?.data]).toEqual([{ n: 0 }, { n: 1 }, { n: 4 }]);
    expect(deduped?.state).toBe('delayed');
  });

  it('the outcomes of runs that end together leave in a few writes, not one each', async () => {
    const runs = 400;
    let ended = 0;
    let allEnded!: () => void;
    const done = new Promise<void>((resolve) => (allEnded = resolve));
    const Counted = defineJob('CountedJob', { id: 'counted-job' }, () => {
      if (++ended === runs) setImmediate(allEnded);
    });
    const producer = await boot({ jobs: [Counted], worker: false });
    const jobs = producer.get(BackgroundJobs);
    await Promise.all(Array.from({ length: runs }, (_, n) => jobs.enqueue(Counted, { n })));

    // NOTE: the worker's boot is counted too (a few dozen writes); every run then records its outcome and takes the next.
    const { writes } = await socketWritesDuring(async () => {
      await boot({ jobs: [Counted], worker: { concurrency: 50 } });
      await done;
    });

    // One write per outcome would be more than 400 (496 measured with the grouping off); 141 measured with it.
    expect(writes).toBeLessThanOrEqual(runs / 2);
    expect(ended).toBe(runs);
  });
});
