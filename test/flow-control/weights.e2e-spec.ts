import IORedis from 'ioredis';
import { TestingModule } from '@nestjs/testing';
import { BackgroundJobs, JobContext, UnknownLimitError } from 'nestjs-background-jobs';
import { DEFAULT_QUEUE } from 'nestjs-background-jobs/contracts';
import { ExecutionReader } from 'nestjs-background-jobs/core';
import { SET_LIMIT_UNKNOWN } from 'nestjs-background-jobs/contracts/flow-control.messages';
import { defineJob } from '../support/jobs-app';
import { testRedisUrl, waitFor } from '../support/redis';
import { FLOW_TARGETS, flowApps, FlowTarget } from './support/flow-apps';

/** A promise the test resolves to let the blocking runs end. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/**
 * The largest gap, over every prefix of the start order, between the starts `tenant` got and `share` of them.
 * One consumer taking runs in the order the transport gives them is off by less than 1 (3 of every 4: after the
 * first start 1 against 0.75); with `slots` runs taken at once, two starts recorded in the other order move a prefix
 * by one more each, so the bound is 1 + (slots - 1).
 */
function drift(order: string[], tenant: string, share: number): number {
  let got = 0;
  let worst = 0;
  order.forEach((name, i) => {
    if (name === tenant) got += 1;
    worst = Math.max(worst, Math.abs(got - share * (i + 1)));
  });
  return worst;
}

describe.each<FlowTarget>(FLOW_TARGETS)('tenant weights on the %s transport', (target) => {
  const { boot, instances } = flowApps(target);

  /**
   * Every instance's one worker slot held by a blocking run until the whole backlog is queued, so the runs start in
   * the order the transport gives them: `a` of tenant A (all enqueued first), then `b` of tenant B.
   */
  const backlog = async (app: TestingModule, order: string[], a: number, b: number) => {
    const jobs = app.get(BackgroundJobs);
    const blocking = gate();
    gates.push(blocking);
    const before = order.length;
    for (let i = 0; i < instances; i++) await jobs.enqueue('weighted', { tenant: 'blocker' }, { tenantId: 'other' });
    await waitFor('every worker slot held', () => order.length === before + instances);
    for (let i = 0; i < a; i++) await jobs.enqueue('weighted', { tenant: 'A' }, { tenantId: 'A' });
    for (let i = 0; i < b; i++) await jobs.enqueue('weighted', { tenant: 'B' }, { tenantId: 'B' });
    // The backlog figure counts a weighted tenant's runs too (BullMQ: n per round from the rounds and the weights).
    const queued = (await app.get(ExecutionReader).tenantBacklog(DEFAULT_QUEUE, 10)).tenants;
    expect(queued).toEqual([
      { tenantId: 'A', queued: a },
      { tenantId: 'B', queued: b },
    ]);
    blocking.open();
    await waitFor('the backlog done', () => order.length === before + instances + a + b, 20_000);
    return order.slice(before + instances);
  };
  const gates: Array<{ wait: Promise<void>; open: () => void }> = [];
  afterEach(() => gates.splice(0).forEach((g) => g.open()));

  it('A of weight 3 gets 3 of every 4 starts against B of weight 1 (set on another instance); null sets it back to 1:1', async () => {
    const order: string[] = [];
    const attempts: number[] = [];
    const Job = defineJob(
      'WeightedJob',
      { id: 'weighted', fairness: 'tenant', retry: { attempts: 1 } },
      async (ctx: JobContext<{ tenant: string }>) => {
        order.push(ctx.data.tenant);
        attempts.push(ctx.attempt);
        if (ctx.data.tenant === 'blocker') await gates[gates.length - 1].wait;
      },
    );
    const apps = [];
    for (let i = 0; i < instances; i++) apps.push(await boot({ jobs: [Job], worker: { concurrency: 1 } }));
    await apps[apps.length - 1].get(BackgroundJobs).setLimit('weighted', 'A', { weight: 3 });

    const weighted = await backlog(apps[0], order, 30, 10);
    const bound = 1 + (instances - 1);
    const first = weighted.slice(0, 4).join('');
    process.stdout.write(
      `[weights ${target}] 3:1 → ${weighted.map((t) => t[0]).join('')} (drift ${drift(weighted, 'A', 0.75)}, bound < ${bound})\n`,
    );
    expect(drift(weighted, 'A', 0.75)).toBeLessThan(bound);
    if (instances === 1) expect(first).toBe('AAAB');

    await apps[0].get(BackgroundJobs).setLimit('weighted', 'A', null);
    const even = await backlog(apps[0], order, 20, 20);
    process.stdout.write(
      `[weights ${target}] reset → ${even.map((t) => t[0]).join('')} (drift ${drift(even, 'A', 0.5)}, bound < ${bound})\n`,
    );
    expect(drift(even, 'A', 0.5)).toBeLessThan(bound);
    expect(attempts.every((attempt) => attempt === 1)).toBe(true);
  }, 60_000);
});

describe('tenant weights: bad input is refused at call time and nothing is stored', () => {
  const { boot, prefix } = flowApps('bullmq');

  it.each([
    ['zero', { weight: 0 }, 'weight', '0'],
    ['negative', { weight: -2 }, 'weight', '-2'],
    ['not an integer', { weight: 1.5 }, 'weight', '1.5'],
    ['above 1,000', { weight: 1_001 }, 'weight', '1001'],
    ['a string', { weight: '3' }, 'weight', '"3"'],
    ['an unknown key of the override', { weigth: 3 }, 'weigth', '3'],
    ['a rate limit of max 0', { rateLimit: { max: 0, durationMs: 1_000 } }, 'rateLimit', '{"max":0,"durationMs":1000}'],
    ['a window under 1 ms', { rateLimit: { max: 5, durationMs: 0 } }, 'rateLimit', '{"max":5,"durationMs":0}'],
    ['a bad weight beside a good rate limit', { rateLimit: { max: 50, durationMs: 1_000 }, weight: 0 }, 'weight', '0'],
  ])('%s', async (_case, override, option, shown) => {
    const Fair = defineJob('FairLimitedJob', {
      id: 'fair-limited',
      fairness: 'tenant',
      rateLimit: { max: 5, durationMs: 1_000, key: 'tenant' },
    });
    const app = await boot({ jobs: [Fair], worker: false });
    const jobs = app.get(BackgroundJobs);
    const call = jobs.setLimit('fair-limited', 'acme', override as never);
    await expect(call).rejects.toThrow(UnknownLimitError);
    const message = await call.catch((e: Error) => e.message);
    expect(message).toContain(`setLimit("fair-limited", …) has invalid ${option} ${shown}`);
    expect(message).toContain('nothing was stored');
    expect(message).toMatch(/expected .+\. Fix: /);
    const redis = new IORedis(testRedisUrl());
    try {
      expect(await redis.keys(`${prefix()}:*weights*`)).toEqual([]);
      expect(await redis.keys(`${prefix()}:bgj:adm:o`)).toEqual([]);
      // The same call with good values stores both parts (so the checks above look where they would be).
      await jobs.setLimit('fair-limited', 'acme', { rateLimit: { max: 50, durationMs: 1_000 }, weight: 2 });
      expect(await redis.keys(`${prefix()}:*weights*`)).toHaveLength(1);
      expect(await redis.hlen(`${prefix()}:bgj:adm:o`)).toBe(1);
    } finally {
      redis.disconnect();
    }
  });

  it("weight on a job without fairness or on a shared limit names the job, the value and the fix; an unknown name is UnknownLimitError's", async () => {
    const Plain = defineJob('PlainLimitedJob', { id: 'plain-limited', rateLimit: { max: 5, durationMs: 1_000 } });
    const Fair = defineJob('FairOnlyJob', { id: 'fair-only', fairness: 'tenant' });
    const app = await boot({ jobs: [Plain, Fair], worker: false, limits: { crm: { concurrency: { max: 1 } } } });
    const jobs = app.get(BackgroundJobs);
    for (const name of ['plain-limited', 'crm']) {
      await expect(jobs.setLimit(name, 'acme', { weight: 2 })).rejects.toThrow(
        new RegExp(
          `setLimit\\("${name}", …\\) has invalid weight 2: expected no weight: weight is a fair job's option`,
        ),
      );
    }
    // A fair job without limits of its own takes a weight, and nothing else.
    await jobs.setLimit('fair-only', 'acme', { weight: 2 });
    await expect(jobs.setLimit('fair-only', 'acme', { concurrency: { max: 1 } })).rejects.toThrow(
      /has invalid concurrency \{"max":1\}: expected no rateLimit or concurrency part/,
    );
    await expect(jobs.setLimit('nope', 'acme', { weight: 2 })).rejects.toThrow(
      new UnknownLimitError(SET_LIMIT_UNKNOWN('nope')),
    );
  });
});
