import { InvalidJobInputError, PermanentJobError } from 'nestjs-background-jobs';
import { INVALID_LOG_LIMIT } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { defineJob } from '../support/jobs-app';
import { waitFor } from '../support/redis';
import { describeContract } from './support/contract';

describeContract('logs, listings and history retention', (c) => {
  const { boot } = c;

  /** Waits for the clock to move past `since` (ms), so that runs created after it sort after it. */
  const nextMillisecond = (since: number) => waitFor('the next millisecond', () => Date.now() > since, 1_000, 1);

  it('getExecutionLogs returns the last N lines, oldest first, with the total count; a limit below 1 is refused', async () => {
    const Job = defineJob('ChattyJob', { id: 'chatty' }, async (ctx) => {
      for (let i = 1; i <= 5; i++) await ctx.log(`line ${i}`);
      await ctx.reportProgress(100, 'done');
    });
    const jobs = await boot({ jobs: [Job] });
    const { executionId } = await jobs.runNow(Job);

    expect(await jobs.getExecutionLogs(executionId, 3)).toEqual({ lines: ['line 4', 'line 5', 'done'], count: 6 });
    expect(await jobs.getExecutionLogs(executionId)).toEqual({
      lines: ['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'done'],
      count: 6,
    });
    expect(await jobs.getExecutionLogs('unknown-id', 3)).toBeNull();
    expect(() => jobs.getExecutionLogs(executionId, 0)).toThrow(
      new InvalidJobInputError(INVALID_LOG_LIMIT(executionId, 0)),
    );
  });

  it('listExecutions filters by state, job and tenant (null: host level), newest first, and pages', async () => {
    const Ok = defineJob('OkJob', { id: 'ok' }, () => 'ok');
    const Bad = defineJob('BadJob', { id: 'bad' }, () => {
      throw new PermanentJobError('no');
    });
    const jobs = await boot({ jobs: [Ok, Bad] });
    const ids: string[] = [];
    for (const tenantId of [null, 't1', 't2', 't1']) {
      const run = await jobs.runNow(Ok, { tenantId });
      ids.push(run.executionId);
      await nextMillisecond(run.createdAt.getTime());
    }
    const bad = (await jobs.runNow(Bad)).executionId;

    const all = await jobs.listExecutions();
    expect(all.total).toBe(5);
    expect(all.items.map((e) => e.executionId)).toEqual([bad, ...[...ids].reverse()]);
    expect((await jobs.listExecutions({ states: ['failed'] })).items.map((e) => e.executionId)).toEqual([bad]);
    expect((await jobs.listExecutions({ jobId: 'ok' })).total).toBe(4);
    expect((await jobs.listExecutions({ tenantId: 't1' })).items.map((e) => e.executionId)).toEqual([ids[3], ids[1]]);
    expect((await jobs.listExecutions({ tenantId: null, jobId: 'ok' })).items.map((e) => e.executionId)).toEqual([
      ids[0],
    ]);
    expect(await jobs.listExecutions({ jobId: 'ok', offset: 1, limit: 2 })).toMatchObject({
      total: 4,
      offset: 1,
      limit: 2,
      items: [{ executionId: ids[2] }, { executionId: ids[1] }],
    });
  });

  it('history keeps the newest `count` finished runs and none older than `maxAgeSeconds`', async () => {
    const Counted = defineJob('CountedJob', { id: 'counted', history: { completed: { count: 2 } } }, () => 'ok');
    const Aged = defineJob('AgedJob', { id: 'aged', history: { completed: { maxAgeSeconds: 1 } } }, () => 'ok');
    const jobs = await boot({ jobs: [Counted, Aged] });

    const counted: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await jobs.runNow(Counted);
      counted.push(run.executionId);
      await nextMillisecond(run.createdAt.getTime());
    }
    expect(await jobs.getExecution(counted[0])).toBeNull();
    expect((await jobs.listExecutions({ jobId: 'counted' })).items.map((e) => e.executionId)).toEqual([
      counted[2],
      counted[1],
    ]);

    const old = await jobs.runNow(Aged);
    // NOTE: age is the one thing here measured in wall-clock time: the next finish trims runs older than 1 s (250 ms margin).
    await waitFor(
      'the first run to be older than maxAgeSeconds',
      () => Date.now() - old.finishedAt!.getTime() > 1_250,
      3_000,
    );
    const fresh = await jobs.runNow(Aged);

    expect(await jobs.getExecution(old.executionId)).toBeNull();
    expect(await jobs.getExecution(fresh.executionId)).toMatchObject({ state: 'completed' });
  });
});
