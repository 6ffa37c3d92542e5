import { Socket } from 'node:net';
import { BackgroundJobs, InvalidJobInputError } from 'nestjs-background-jobs';
import { INVALID_PAYLOAD } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { appsPerTest, defineJob } from '../support/jobs-app';

/** Socket writes this process makes while `fn` runs (each Redis command without pipelining is one). */
async function socketWritesDuring<T>(fn: () => Promise<T>): Promise<{ result: T; writes: number }> {
  const original = Socket.prototype.write;
  let writes = 0;
  Socket.prototype.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    writes += 1;
    return original.apply(this, args);
  } as Socket['write'];
  try {
    return { result: await fn(), writes };
  } finally {
    Socket.prototype.write = original;
  }
}

// NOTE: a request handler fanning out issues its enqueues in one event-loop turn: they leave for Redis together, and
// each call still gets its own execution id, its own dedupe answer or its own error.
describe('enqueues issued together', () => {
  const { boot } = appsPerTest('coalesce');
  const Job = defineJob('FanOutJob', { id: 'fan-out-job' });

  it('leave in one round trip, not one each, and each resolves its own run', async () => {
    // NOTE: producer only, so the only writes counted are the enqueues' (no worker polling Redis meanwhile).
    const jobs = (await boot({ jobs: [Job], worker: false })).get(BackgroundJobs);
    await jobs.enqueue(Job, { n: -1 });

    const { result: ids, writes } = await socketWritesDuring(() =>
      Promise.all(Array.from({ length: 50 }, (_, n) => jobs.enqueue(Job, { n }))),
    );

    // One write carries them all; a second may follow when replies and new calls cross. One each would be 50.
    expect(writes).toBeLessThanOrEqual(5);
    expect(new Set(ids).size).toBe(50);
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
});
