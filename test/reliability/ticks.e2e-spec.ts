import { waitFor } from '../support/redis';
import { ReliabilityWorld, Row, waitForRows } from './support/reliability';

/** Several instances on one schedule, and every instance down across ticks (the misfire policy). */
describe('reliability: ticks across instances', () => {
  const world = new ReliabilityWorld();

  beforeAll(() => world.setUpFile());
  afterAll(() => world.tearDownFile());
  beforeEach(() => world.setUpTest());
  afterEach(() => world.tearDownTest());

  const countBy = (rows: Row[], field: 'key' | 'instance') => {
    const counts: Record<string, number> = {};
    for (const row of rows) counts[row[field]] = (counts[row[field]] ?? 0) + 1;
    return counts;
  };

  it("three instances over ten ticks of a one-second job: each tick's domain effect exactly once", async () => {
    const booted = await world.start(['a', 'b', 'c'], [{ options: { id: 'tick', cron: '* * * * * *' }, kind: 'effect' }]);
    const effects = await waitForRows('ten ticks', () => world.effects('tick'), 15_000, 11);
    // NOTE: the first tick may have been due while the instances were still booting: count ten whole ones after it.
    const first = Number(effects[0].key) + 1_000;
    const ticks = Array.from({ length: 10 }, (_, i) => String(first + i * 1_000));

    const calls = (await world.calls('tick')).filter((call) => ticks.includes(call.key));
    const done = (await world.effects('tick')).filter((effect) => ticks.includes(effect.key));

    expect(done.map((effect) => effect.key)).toEqual(ticks);
    expect(Object.values(countBy(calls, 'key'))).toEqual(ticks.map(() => 1));
    process.stdout.write(
      `[reliability] three instances, ten ticks: ${done.length} effects, ${calls.length} calls, by instance ${JSON.stringify(countBy(done, 'instance'))}; ` +
        `boot times ${booted.map((i) => `${i.name} ${i.startupMs} ms`).join(', ')}\n`,
    );
  }, 40_000);

  it.each<['skip' | 'run-once', number]>([
    ['skip', 0],
    ['run-once', 1],
  ])("every instance down across three ticks: misfire '%s' makes up %i run(s) on return", async (misfire, catchUps) => {
    const jobs = [{ options: { id: 'tick', cron: '* * * * * *', misfire }, kind: 'effect' as const }];
    await world.start(['a', 'b'], jobs);
    await waitForRows('a first tick', () => world.effects('tick'), 5_000);
    for (const instance of world.instances) instance.kill('SIGTERM');
    await Promise.all(world.instances.map((instance) => instance.exited));
    const down = Date.now();
    const lastTick = Math.max(...(await world.effects('tick')).map((effect) => Number(effect.key)));
    await waitFor('three ticks of downtime', () => Date.now() - down >= 3_200, 5_000, 50);

    const returned = Date.now();
    const [c] = await world.start(['c'], jobs);
    // NOTE: the overdue tick is handled first; two on-time runs after the return prove it has been handled.
    await waitForRows('two on-time runs', async () => (await world.effects('tick')).filter((e) => Number(e.key) >= returned), 6_000, 2);

    const missed = (await world.effects('tick')).filter((effect) => Number(effect.key) > lastTick && Number(effect.key) < returned);
    expect(missed).toHaveLength(catchUps);
    if (misfire === 'run-once') expect(missed[0]).toMatchObject({ key: String(lastTick + 1_000), instance: 'c' });
    const outcomes = (await world.queue().getCompleted()).filter((job) => job.timestamp <= returned);
    const skipped = outcomes.filter((job) => job.returnvalue?.outcome === 'skipped');
    expect(skipped).toHaveLength(1 - catchUps);
    if (misfire === 'skip') expect(skipped[0].returnvalue.reason).toMatch(/^misfire: \d+ later tick\(s\) were missed/);
    process.stdout.write(
      `[reliability] misfire '${misfire}': down ${returned - down} ms (last tick ${lastTick}), ${missed.length} catch-up run(s), ` +
        `${skipped.length} skipped, instance c booted in ${c.startupMs} ms\n`,
    );
  }, 30_000);
});
