import type { BatchSummary, JobExecution } from 'nestjs-background-jobs';
import { waitFor } from '../support/redis';
import { AppInstance } from './support/instance';
import { ReliabilityWorld, waitForRows } from './support/reliability';

/** A batch whose children run on two instances, one killed with kill -9 mid-batch: the callback still runs once. */
describe('reliability: batches', () => {
  const world = new ReliabilityWorld();
  const LOCK_MS = 1_500;
  const STALLED_MS = 1_000;
  const worker = {
    concurrency: 2,
    lockDurationMs: LOCK_MS,
    stalledIntervalMs: STALLED_MS,
    maxStalledCount: 2,
    shutdownGraceMs: 1_000,
  };

  beforeAll(() => world.setUpFile());
  afterAll(() => world.tearDownFile());
  beforeEach(() => world.setUpTest());
  afterEach(() => world.tearDownTest());

  it('kill -9 of an instance running batch children: onComplete exactly once with { total: 10, completed: 9, failed: 1 }', async () => {
    const [a, b] = await world.start(
      ['a', 'b'],
      [
        { options: { id: 'child', retry: { attempts: 1 } }, kind: 'batch-child', holdMs: 1_000, holdFirstOnly: true },
        { options: { id: 'done' }, kind: 'effect' },
      ],
      { worker },
    );
    const { batchId, executionIds } = await a.send<{ batchId: string; executionIds: string[] }>({
      cmd: 'batch',
      runs: Array.from({ length: 10 }, (_, n) => ({ job: 'child', data: n === 3 ? { fail: true } : { n } })),
      onComplete: { job: 'done' },
    });
    // NOTE: kill the instance running children as soon as both instances hold some (each holds them 1 s).
    const rows = await waitForRows(
      'children started on both instances',
      async () => {
        const calls = await world.calls('child');
        return new Set(calls.map((c) => c.instance)).size === 2 ? calls : [];
      },
      15_000,
    );
    const victim = rows[0].instance === a.name ? a : b;
    const survivor = (victim === a ? b : a) as AppInstance;
    victim.kill('SIGKILL');
    await victim.exited;

    const callback = await waitFor(
      'the callback completed',
      async () => {
        const execution = await survivor.send<JobExecution | null>({
          cmd: 'getExecution',
          executionId: `${batchId}.complete`,
        });
        return execution?.state === 'completed' ? execution : null;
      },
      30_000,
    );
    const batch = await survivor.send<BatchSummary>({ cmd: 'getBatch', batchId });
    const calls = await world.calls('child');
    process.stdout.write(
      `[reliability] batch with kill -9 of ${victim.name}: ${JSON.stringify(batch)}; child calls ${calls.length} for 10 children; callback calls ${(await world.calls('done')).length}\n`,
    );
    expect(callback).toBeTruthy();
    expect(batch).toMatchObject({ total: 10, completed: 9, failed: 1, cancelled: 0, pending: 0, state: 'failed' });
    expect(await world.calls('done')).toHaveLength(1);
    // NOTE: every child ran to its end somewhere: 9 effects (the failing one has none).
    expect(new Set((await world.effects('child')).map((e) => e.execution_id))).toEqual(
      new Set(executionIds.filter((_, n) => n !== 3)),
    );
  }, 60_000);

  it('timeoutMs with the instance that made the batch killed -9 before its deadline: the other times it out, onComplete once', async () => {
    const TIMEOUT_MS = 3_000;
    const [a, b] = await world.start(
      ['a', 'b'],
      [
        { options: { id: 'child', retry: { attempts: 1 } }, kind: 'batch-child', holdMs: 30_000 },
        { options: { id: 'done' }, kind: 'effect' },
      ],
      { worker },
    );
    const started = Date.now();
    const { batchId } = await a.send<{ batchId: string }>({
      cmd: 'batch',
      runs: Array.from({ length: 4 }, (_, n) => ({ job: 'child', data: { n } })),
      onComplete: { job: 'done' },
      timeoutMs: TIMEOUT_MS,
    });
    await waitForRows(
      'children started on both instances',
      async () => {
        const calls = await world.calls('child');
        return new Set(calls.map((c) => c.instance)).size === 2 ? calls : [];
      },
      TIMEOUT_MS,
    );
    // NOTE: the instance that made the batch, and holds two of its children, dies before the deadline.
    a.kill('SIGKILL');
    await a.exited;

    // NOTE: bound: the deadline, b's 500 ms sweep, the aborts and the callback's run, with 10 s for a loaded machine.
    await waitFor(
      'the callback completed',
      async () => {
        const execution = await b.send<JobExecution | null>({
          cmd: 'getExecution',
          executionId: `${batchId}.complete`,
        });
        return execution?.state === 'completed' ? execution : null;
      },
      TIMEOUT_MS + 10_000,
    );
    const elapsed = Date.now() - started;
    const batch = await b.send<BatchSummary>({ cmd: 'getBatch', batchId });
    process.stdout.write(
      `[reliability] batch timeout after kill -9 of its maker: ${JSON.stringify(batch)} after ${elapsed} ms (timeoutMs ${TIMEOUT_MS}); callback calls ${(await world.calls('done')).length}\n`,
    );
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(batch).toMatchObject({ total: 4, completed: 0, failed: 0, cancelled: 4, pending: 0, state: 'failed' });
    expect(await world.calls('done')).toHaveLength(1);
  }, 60_000);
});
