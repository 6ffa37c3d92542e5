import { TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { BackgroundJobs, InvalidJobInputError } from 'nestjs-background-jobs';
import { INVALID_PAYLOAD } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { defineJob, startJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, testRedisUrl } from '../support/redis';

describe('input limits at enqueue', () => {
  let prefix: string;
  let app: TestingModule;
  let queue: Queue;
  const Job = defineJob('ImportJob', { id: 'import' }, () => 'ran');

  beforeEach(async () => {
    prefix = randomPrefix('limits');
    app = await startJobsApp({ prefix, jobs: [Job], maxPayloadBytes: 1024 });
    queue = new Queue('background-jobs', { connection: { url: testRedisUrl() }, prefix });
  });

  afterEach(async () => {
    await app.close();
    await queue.close();
    await deletePrefix(prefix);
  });

  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;

  it.each<[string, unknown, string]>([
    ['an oversized payload', { rows: 'x'.repeat(2_000) }, 'it is 2011 bytes, over the limit of 1024 bytes'],
    ['a function', { onDone: () => undefined }, 'it is not JSON-serialisable (data.onDone is a function)'],
    ['a BigInt', { amount: BigInt(10) }, 'it is not JSON-serialisable (data.amount is a BigInt)'],
    ['NaN', { ratio: NaN }, 'it is not JSON-serialisable (data.ratio is NaN)'],
  ])('rejects %s with a clear error and enqueues nothing', async (_label, data, problem) => {
    const jobs = app.get(BackgroundJobs);

    await expect(jobs.enqueue(Job, data)).rejects.toThrow(new InvalidJobInputError(INVALID_PAYLOAD('import', problem)));

    expect(await queue.count()).toBe(0);
  });

  it('rejects a circular payload, and a payload at the limit goes through', async () => {
    const jobs = app.get(BackgroundJobs);
    await expect(jobs.enqueue(Job, circular)).rejects.toThrow(
      /enqueue\("import"\) got a payload that cannot be queued: it is not JSON-serialisable \(.*circular/i,
    );
    expect(await queue.count()).toBe(0);

    const fits = { rows: 'x'.repeat(1024 - '{"rows":""}'.length) };
    expect(await jobs.runNow(Job, { data: fits })).toMatchObject({ state: 'completed', result: 'ran' });
  });
});
