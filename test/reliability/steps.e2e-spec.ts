import type { JobExecution } from 'nestjs-background-jobs';
import { waitFor } from '../support/redis';
import { ReliabilityWorld } from './support/reliability';

/** Durable steps across a kill -9: the instance dies between two steps; the run recovered elsewhere reuses the first. */
describe('reliability: durable steps', () => {
  const world = new ReliabilityWorld();
  const LOCK_MS = 1_500;
  const STALLED_MS = 1_000;
  const worker = { lockDurationMs: LOCK_MS, stalledIntervalMs: STALLED_MS, maxStalledCount: 1, shutdownGraceMs: 1_000 };

  beforeAll(() => world.setUpFile());
  afterAll(() => world.tearDownFile());
  beforeEach(() => world.setUpTest());
  afterEach(() => world.tearDownTest());

  it('kill -9 after step "charge": the run recovered on another instance gets its result back, charge is not called again', async () => {
    const [a, b] = await world.start(
      ['a', 'b'],
      [{ options: { id: 'order', retry: { attempts: 1 } }, kind: 'steps' }],
      { worker },
    );
    const id = await a.send<string>({ cmd: 'enqueue', jobId: 'order' });
    // NOTE: the instance that took the run kills itself after step charge, outside any step.
    const killed = await Promise.race([a.exited.then(() => a), b.exited.then(() => b)]);
    const survivor = killed === a ? b : a;

    const execution = (await waitFor(
      'the run completed on the survivor',
      async () => {
        const found = await survivor.send<JobExecution>({ cmd: 'getExecution', executionId: id });
        return found?.state === 'completed' ? found : null;
      },
      LOCK_MS + STALLED_MS + 10_000,
    )) as JobExecution;

    const calls = await world.calls('order');
    const keys = (key: string) => calls.filter((c) => c.key === key).map((c) => c.instance);
    process.stdout.write(
      `[reliability] steps after kill -9: charge calls ${keys('charge').length}, body calls ${keys('body').length}, ship calls ${keys('ship').length}; result ${JSON.stringify(execution.result)}\n`,
    );
    expect(keys('charge')).toEqual([killed.name]);
    expect(keys('body')).toEqual([killed.name, survivor.name]);
    expect(keys('ship')).toEqual([survivor.name]);
    // NOTE: the kept result of charge is the killed instance's, handed back to the survivor.
    expect(execution.result).toBe(`1@${killed.name} 1@${survivor.name}`);
    expect(execution.steps?.map((s) => [s.name, s.state])).toEqual([
      ['charge', 'completed'],
      ['ship', 'completed'],
    ]);
  }, 40_000);
});
