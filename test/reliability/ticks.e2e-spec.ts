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
    const booted = await world.start(
      ['a', 'b', 'c'],
      [{ options: { id: 'tick', cron: '* * * * * *' }, kind: 'effect' }],
    );
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

  it('a one-second job runs every tick, once, while three instances drain a backlog on its queue and one of them is killed', async () => {
    const holdMs = 150;
    const jobs = [
      { options: { id: 'tick', cron: '* * * * * *' }, kind: 'effect' as const },
      { options: { id: 'work' }, kind: 'effect' as const, holdMs },
    ];
    const [a, , c] = await world.start(['a', 'b', 'c'], jobs, { worker: { concurrency: 2 } });
    await waitForRows('a first tick', () => world.effects('tick'), 5_000);
    // NOTE: 6 slots × 150 ms each: 300 runs are ≈ 7.5 s of backlog for three instances, more once one is killed.
    const backlog = 300;
    const enqueuedAt = Date.now();
    for (let i = 0; i < backlog; i++) await a.send({ cmd: 'enqueue', jobId: 'work' });
    await waitFor(
      'a third of the backlog drained',
      async () => (await world.effects('work')).length >= backlog / 3,
      10_000,
      100,
    );
    c.kill('SIGKILL');
    const killedAt = Date.now();
    const work = await waitForRows(
      'the rest of the backlog drained by a and b',
      () => world.effects('work'),
      25_000,
      backlog - 6,
    );
    const drainedAt = Math.max(...work.map((row) => row.at.getTime()));

    // NOTE: every whole tick from one after the backlog was enqueued to the last drained run.
    const first = Math.ceil(enqueuedAt / 1_000) * 1_000 + 1_000;
    const ticks: string[] = [];
    for (let t = first; t <= drainedAt - 1_000; t += 1_000) ticks.push(String(t));
    await waitForRows(
      'the last tick of the window',
      async () => (await world.effects('tick')).filter((e) => e.key === ticks[ticks.length - 1]),
      5_000,
    );
    const calls = (await world.calls('tick')).filter((call) => ticks.includes(call.key));
    const effects = (await world.effects('tick')).filter((effect) => ticks.includes(effect.key));
    // NOTE: a tick the SIGKILL interrupted mid-body is BullMQ's to recover after its lock expires (a stalled job):
    // at most one, called on c and not finished there; every other tick ran once to its effect.
    const interrupted = ticks.filter((t) => !effects.some((e) => e.key === t));
    expect(interrupted.length).toBeLessThanOrEqual(1);
    for (const t of interrupted)
      expect(calls.filter((call) => call.key === t)).toEqual([expect.objectContaining({ instance: 'c' })]);
    expect(
      countBy(
        calls.filter((call) => !interrupted.includes(call.key)),
        'key',
      ),
    ).toEqual(Object.fromEntries(ticks.filter((t) => !interrupted.includes(t)).map((t) => [t, 1])));
    // Each tick's start as its body recorded it (the call), not its effect (two PostgreSQL round trips later).
    const lags = calls.filter((call) => !interrupted.includes(call.key)).map((c) => c.at.getTime() - Number(c.key));
    expect(drainedAt - enqueuedAt).toBeGreaterThan(4_000);
    // NOTE: not starved: a tick goes ahead of the backlog, so it waits at most for one slot to free (≤ holdMs), plus
    // 1 s of margin for process and Redis round trips, instead of the seconds the backlog takes.
    expect(Math.max(...lags)).toBeLessThan(holdMs + 1_000);
    process.stdout.write(
      `[reliability] ${backlog} runs drained in ${drainedAt - enqueuedAt} ms (c killed after ${killedAt - enqueuedAt} ms): ` +
        `${effects.length}/${ticks.length} ticks ran, each once; tick start lag max ${Math.max(...lags)} ms, median ${lags.sort((x, y) => x - y)[lags.length >> 1]} ms\n`,
    );
  }, 60_000);

  it.each<['skip' | undefined, number]>([
    ['skip', 0],
    [undefined, 1],
  ])(
    "every instance down across three ticks: misfire %s (undefined: the default, 'run-once') makes up %i run(s) on return",
    async (misfire, catchUps) => {
      // NOTE: 1 s past its tick a run counts as missed ('skip'); the downtime below is over three ticks.
      const jobs = [
        {
          options: { id: 'tick', cron: '* * * * * *', ...(misfire ? { misfire, misfireThresholdMs: 1_000 } : {}) },
          kind: 'effect' as const,
        },
      ];
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
      await waitForRows(
        'two on-time runs',
        async () => (await world.effects('tick')).filter((e) => Number(e.key) >= returned),
        6_000,
        2,
      );

      const missed = (await world.effects('tick')).filter(
        (effect) => Number(effect.key) > lastTick && Number(effect.key) < returned,
      );
      expect(missed).toHaveLength(catchUps);
      if (misfire === undefined) expect(missed[0]).toMatchObject({ key: String(lastTick + 1_000), instance: 'c' });
      const outcomes = (await world.queue().getCompleted()).filter((job) => job.timestamp <= returned);
      const skipped = outcomes.filter((job) => job.returnvalue?.outcome === 'skipped');
      expect(skipped).toHaveLength(1 - catchUps);
      if (misfire === 'skip')
        expect(skipped[0].returnvalue.reason).toMatch(/^misfire: \d+ later tick\(s\) were missed/);
      process.stdout.write(
        `[reliability] misfire '${misfire ?? 'run-once (default)'}': down ${returned - down} ms (last tick ${lastTick}), ${missed.length} catch-up run(s), ` +
          `${skipped.length} skipped, instance c booted in ${c.startupMs} ms\n`,
      );
    },
    30_000,
  );
});
