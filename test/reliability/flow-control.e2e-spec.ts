import type { FixtureJob } from '../reliability/fixtures/instance';
import { waitFor } from '../support/redis';
import { ReliabilityWorld, Row, waitForRows } from './support/reliability';

/** Rate limits across instances through a Redis that comes back empty: the limit still holds for the runs after. */
describe('reliability: flow control across instances', () => {
  const world = new ReliabilityWorld();
  const worker = {
    concurrency: 10,
    lockDurationMs: 1_500,
    stalledIntervalMs: 1_000,
    maxStalledCount: 1,
    shutdownGraceMs: 1_000,
  };
  const limited: FixtureJob = {
    options: { id: 'limited', rateLimit: { max: 5, durationMs: 1_000, key: 'tenant' }, retry: { attempts: 1 } },
    kind: 'effect',
  };

  beforeAll(() => world.setUpFile());
  afterAll(() => world.tearDownFile());
  beforeEach(() => world.setUpTest());
  afterEach(() => world.tearDownTest());

  it('Redis restarted empty mid-flood: the runs enqueued after it keep the 5/s limit across two instances', async () => {
    const [a, b] = await world.start(['a', 'b'], [limited], { worker });
    await a.send<string[]>({ cmd: 'enqueueMany', jobId: 'limited', tenantId: 'acme', count: 15 });
    await waitForRows('a few runs done', () => world.effects('limited'), 10_000, 5);

    await world.redis.stop();
    await world.redis.start();
    const back = Date.now();
    // Every run queued before is gone with the data; the ones after must still be limited.
    const ids = await waitFor(
      'an enqueue after the restart',
      () => b.send<string[]>({ cmd: 'enqueueMany', jobId: 'limited', tenantId: 'acme', count: 15 }),
      15_000,
    );
    const effects = await waitForRows(
      'the 15 runs after the restart',
      async () => (await world.effects('limited')).filter((e) => ids.includes(String(e.execution_id))),
      20_000,
      15,
    );
    const starts = (await world.calls('limited'))
      .filter((c) => ids.includes(String(c.execution_id)))
      .map((c: Row) => c.at.getTime())
      .sort((x, y) => x - y);
    // NOTE: the calls are recorded a few ms after Redis counted the start; 40 ms of that gap is allowed.
    let peak = 0;
    for (let i = 0, j = 0; i < starts.length; i++) {
      while (starts[i] - starts[j] >= 1_000 - 40) j++;
      peak = Math.max(peak, i - j + 1);
    }
    process.stdout.write(
      `[reliability] flow control Redis restarted empty: ${effects.length} runs after it in ${starts[starts.length - 1] - back} ms, peak ${peak} per 1 s\n`,
    );
    expect(starts).toHaveLength(15);
    expect(peak).toBe(5);
  }, 60_000);
});
