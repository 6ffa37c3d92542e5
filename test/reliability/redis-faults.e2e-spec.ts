import type { RecurringJobInfo } from 'nestjs-background-jobs';
import { waitFor } from '../support/redis';
import { ReliabilityWorld, Row, waitForRows } from './support/reliability';

/** Redis restarted empty, and Redis dropping every connection, under instances running one-second ticks. */
describe('reliability: Redis faults', () => {
  const world = new ReliabilityWorld();

  beforeAll(() => world.setUpFile());
  afterAll(() => world.tearDownFile());
  beforeEach(() => world.setUpTest());
  afterEach(() => world.tearDownTest());

  const ticksFrom = (rows: Row[], from: number) => rows.filter((row) => Number(row.key) >= from);
  /** Calls per tick: more than one is a doubled run. */
  const doubled = (calls: Row[]) => {
    const per = new Map<string, number>();
    for (const call of calls) per.set(`${call.job_id}@${call.key}`, (per.get(`${call.job_id}@${call.key}`) ?? 0) + 1);
    return [...per].filter(([, n]) => n > 1);
  };

  it('Redis stopped for 5 s and restarted empty: within 10 s schedulers and pause flags are back and ticks run, no app restart', async () => {
    const [a, b] = await world.start(
      ['a', 'b'],
      [
        { options: { id: 'tick', cron: '* * * * * *' }, kind: 'effect' },
        { options: { id: 'nightly-report', cron: '0 3 * * *' }, kind: 'effect' },
        { options: { id: 'weekly-report', cron: '0 4 * * 1' }, kind: 'effect' },
      ],
    );
    // NOTE: each instance pauses one job: whichever instance heals first must write back both flags.
    await a.send({ cmd: 'pause', jobId: 'nightly-report' });
    await b.send({ cmd: 'pause', jobId: 'weekly-report' });
    // Instances learn of pauses made elsewhere on their next schedule check (every 2 s), which reads the flags.
    const checkedBy = new Set<string>();
    await world.monitor((args, source) => {
      if (args[0].toLowerCase() === 'hgetall' && args[1] === `${world.prefix}:bgj:paused`) checkedBy.add(source);
    });
    await waitForRows('a first tick', () => world.effects('tick'), 5_000);
    const queue = world.queue();
    const redis = world.client();
    await waitFor('a schedule check on both instances since the pauses', () => checkedBy.size >= 2, 5_000);

    await world.redis.stop();
    const down = Date.now();
    await waitFor('5 s of downtime', () => Date.now() - down >= 5_000, 7_000, 100);
    await world.redis.start();
    const back = Date.now();

    const schedulers = await waitFor(
      'the scheduler re-asserted',
      async () => {
        const found = await queue.getJobSchedulers(0, -1);
        return found.length > 0 ? found : null;
      },
      10_000,
      50,
    );
    const schedulerMs = Date.now() - back;
    await waitForRows('a tick after Redis came back', async () => ticksFrom(await world.effects('tick'), back), 10_000);
    const tickMs = Date.now() - back;
    await waitForRows('two more ticks', async () => ticksFrom(await world.effects('tick'), back), 5_000, 3);

    expect(tickMs).toBeLessThan(10_000);
    expect(schedulers?.map((s) => s.key)).toEqual(['tick']);
    expect((await redis.hkeys(`${world.prefix}:bgj:paused`)).sort()).toEqual(['nightly-report', 'weekly-report']);
    for (const instance of [a, b]) {
      const recurring = await instance.send<RecurringJobInfo[]>({ cmd: 'listRecurring' });
      expect(
        recurring
          .filter((r) => r.paused)
          .map((r) => r.jobId)
          .sort(),
      ).toEqual(['nightly-report', 'weekly-report']);
    }
    expect(doubled(await world.calls())).toEqual([]);
    expect(world.instances.every((i) => i.running)).toBe(true);
    process.stdout.write(
      `[reliability] Redis restarted empty: scheduler back ${schedulerMs} ms, first tick ran ${tickMs} ms after its return\n`,
    );
  }, 40_000);

  it('Redis connections dropped twice (CLIENT KILL) during one-second ticks: exactly one delayed job per scheduler afterwards', async () => {
    await world.start(
      ['a', 'b'],
      [
        { options: { id: 'tick', cron: '* * * * * *' }, kind: 'effect' },
        { options: { id: 'tock', cron: '* * * * * *' }, kind: 'effect' },
      ],
    );
    const queue = world.queue();
    const admin = world.client();
    await waitForRows('first ticks', () => world.effects(), 5_000, 2);
    const killed: number[] = [];
    for (let round = 0; round < 2; round++) {
      // NOTE: every connection but this one: workers' blocking ones, queues, the framework's own, subscribers.
      const normal = (await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes')) as number;
      const pubsub = (await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')) as number;
      killed.push(normal + pubsub);
      const after = Date.now();
      await waitForRows(
        `ticks of both jobs after drop ${round + 1}`,
        async () => {
          const rows = ticksFrom(await world.effects(), after);
          return new Set(rows.map((r) => r.job_id)).size === 2 ? rows : [];
        },
        5_000,
      );
    }

    // NOTE: sampled over three more ticks: a duplicate delayed job would stay until its tick, so it cannot hide.
    const samples: Record<string, number>[] = [];
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      const delayed = await queue.getDelayed();
      const per: Record<string, number> = {};
      for (const job of delayed) per[job.name] = (per[job.name] ?? 0) + 1;
      samples.push(per);
      await new Promise((r) => setTimeout(r, 100));
    }
    const schedulers = await queue.getJobSchedulers(0, -1);

    expect(schedulers.map((s) => s.key).sort()).toEqual(['tick', 'tock']);
    expect(samples.filter((per) => per.tick > 1 || per.tock > 1)).toEqual([]);
    // NOTE: BullMQ adds the next iteration just after a tick turns active, so one sample may miss it for a few ms.
    const settled = await waitFor(
      'one delayed job for each scheduler',
      async () => {
        const names = (await queue.getDelayed()).map((job) => job.name).sort();
        return names.join() === 'tick,tock' ? names : null;
      },
      3_000,
      20,
    );
    expect(settled).toEqual(['tick', 'tock']);
    expect(doubled(await world.calls())).toEqual([]);
    expect(killed.every((n) => n > 0)).toBe(true);
    process.stdout.write(
      `[reliability] CLIENT KILL: dropped ${killed.join(' + ')} connections; ${samples.length} samples, max delayed per scheduler ${Math.max(...samples.flatMap((s) => Object.values(s)))}\n`,
    );
  }, 40_000);
});
