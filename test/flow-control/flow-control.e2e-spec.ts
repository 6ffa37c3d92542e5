import { CanActivate, INestApplication, Injectable } from '@nestjs/common';
import request from 'supertest';
import { TestingModule } from '@nestjs/testing';
import {
  BackgroundJobs,
  BackgroundJobsMetrics,
  JobContext,
  RateLimitedError,
  UnknownLimitError,
} from 'nestjs-background-jobs';
import {
  INVALID_LIMIT_OPTION,
  SET_LIMIT_UNKNOWN,
  UNKNOWN_SHARED_LIMIT,
} from 'nestjs-background-jobs/contracts/flow-control.messages';
import { appsPerTest, defineJob, startHttpJobsApp, startJobsApp, TransportKind } from '../support/jobs-app';
import { deletePrefix, randomPrefix, waitFor } from '../support/redis';

/** One start of a run: when (ms), on which app, which tenant or key, and its attempt. */
interface Start {
  at: number;
  end?: number;
  key: string;
  attempt: number;
  executionId: string;
}

/** The most starts of one key inside any window of `windowMs` (start times sorted per key). */
function peakStartsPerWindow(starts: Start[], windowMs: number): Record<string, number> {
  const byKey = new Map<string, number[]>();
  for (const s of starts) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s.at]);
  const peaks: Record<string, number> = {};
  for (const [key, times] of byKey) {
    times.sort((a, b) => a - b);
    let peak = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i] - times[j] >= windowMs) j++;
      peak = Math.max(peak, i - j + 1);
    }
    peaks[key] = peak;
  }
  return peaks;
}

/** The most runs of one key running at once, from their start and end times. */
function peakRunning(starts: Start[]): Record<string, number> {
  const peaks: Record<string, number> = {};
  for (const s of starts) {
    const overlapping = starts.filter((o) => o.key === s.key && o.at <= s.at && (o.end ?? Infinity) > s.at).length;
    peaks[s.key] = Math.max(peaks[s.key] ?? 0, overlapping);
  }
  return peaks;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// NOTE: start times are taken in `execute`, a few ms after the admission script counted the start on Redis time; a
// window this much shorter than the limit's absorbs that gap without hiding a sixth start.
const START_JITTER_MS = 40;

describe.each<TransportKind>(['local', 'bullmq'])('flow control on the %s transport', (transport) => {
  const { boot } = appsPerTest(`flow-${transport}`);
  const instances = transport === 'bullmq' ? 2 : 1;
  const bootMany = async (jobs: any[], extra: Record<string, unknown> = {}): Promise<TestingModule[]> => {
    const apps: TestingModule[] = [];
    for (let i = 0; i < instances; i++)
      apps.push(await boot({ transport, jobs, worker: { concurrency: 10 }, ...extra }));
    return apps;
  };

  it('a per-tenant limit of 5/s: never 6 starts of one tenant in any 1 s window, each tenant’s 20 done in about 4 s, all at attempt 1', async () => {
    const starts: Start[] = [];
    const Job = defineJob(
      'PerTenantRateJob',
      { id: 'rate-tenant', rateLimit: { max: 5, durationMs: 1_000, key: 'tenant' }, retry: { attempts: 1 } },
      (ctx: JobContext) => {
        starts.push({ at: Date.now(), key: String(ctx.tenantId), attempt: ctx.attempt, executionId: ctx.executionId });
      },
    );
    const [a] = await bootMany([Job]);
    const jobs = a.get(BackgroundJobs);
    const began = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push(await jobs.enqueue('rate-tenant', undefined, { tenantId: 'acme' }));
      ids.push(await jobs.enqueue('rate-tenant', undefined, { tenantId: 'globex' }));
    }
    await waitFor('all 40 runs done', () => starts.length >= 40, 15_000);
    const done = Date.now() - began;
    const peaks = peakStartsPerWindow(starts, 1_000 - START_JITTER_MS);
    process.stdout.write(`[flow ${transport}] 5/s per tenant: peaks ${JSON.stringify(peaks)}, 40 runs in ${done} ms\n`);
    expect(peaks).toEqual({ acme: 5, globex: 5 });
    expect(starts.every((s) => s.attempt === 1)).toBe(true);
    // 20 runs at 5 per window: windows starting at 0, 1, 2 and 3 s; the limit is used, not starved.
    expect(done).toBeGreaterThanOrEqual(3_000 - START_JITTER_MS);
    expect(done).toBeLessThan(5_000);
    const execution = await jobs.getExecution(ids[39]);
    expect(execution).toMatchObject({ state: 'completed', attempts: 1 });
  }, 30_000);

  it('a payload-keyed concurrency cap of 2 holds across instances while other keys run beside it; a parked run says why it waits', async () => {
    const starts: Start[] = [];
    const Job = defineJob(
      'AccountJob',
      { id: 'per-account', concurrency: { max: 2, key: ({ data }) => data.account }, retry: { attempts: 1 } },
      async (ctx: JobContext<{ account: string }>) => {
        const start: Start = {
          at: Date.now(),
          key: ctx.data.account,
          attempt: ctx.attempt,
          executionId: ctx.executionId,
        };
        starts.push(start);
        await sleep(300);
        start.end = Date.now();
      },
    );
    const apps = await bootMany([Job]);
    const jobs = apps[0].get(BackgroundJobs);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await jobs.enqueue('per-account', { account: 'big' }));
    for (let i = 0; i < 2; i++) await jobs.enqueue('per-account', { account: `small-${i}` });
    const waiting = await waitFor('a parked run to say why it waits', async () => {
      for (const id of ids) {
        const execution = await jobs.getExecution(id);
        if (execution?.waiting) return execution.waiting;
      }
      return undefined;
    });
    expect(waiting).toEqual({ reason: 'concurrency', limit: 'per-account', key: 'big' });
    await waitFor('all 8 runs done', () => starts.filter((s) => s.end).length >= 8, 15_000);
    const peaks = peakRunning(starts);
    process.stdout.write(`[flow ${transport}] cap 2 by payload: peak running ${JSON.stringify(peaks)}\n`);
    expect(peaks).toEqual({ big: 2, 'small-0': 1, 'small-1': 1 });
    // The small keys ran while "big" was at its cap, not after its backlog.
    const bigEnd = Math.max(...starts.filter((s) => s.key === 'big').map((s) => s.end as number));
    expect(starts.filter((s) => s.key.startsWith('small')).every((s) => s.at < bigEnd - 300)).toBe(true);
    expect(starts.every((s) => s.attempt === 1)).toBe(true);
    // Metrics per limit and key, summed over the instances: every big run admitted once, some held back, none in use.
    const metric = async (name: string, key: string) => {
      let sum = 0;
      for (const app of apps) {
        const values = (await app.get(BackgroundJobsMetrics).registry.getSingleMetric(name)!.get()).values;
        sum += values.find((v) => v.labels.limit === 'per-account' && v.labels.key === key)?.value ?? 0;
      }
      return sum;
    };
    expect(await metric('background_jobs_limit_admitted', 'big')).toBe(6);
    expect(await metric('background_jobs_limit_held', 'big')).toBeGreaterThan(0);
    expect(await metric('background_jobs_limit_in_use', 'big')).toBe(0);
    expect(await metric('background_jobs_limit_held', 'small-0')).toBe(0);
  }, 30_000);

  it('a named limit shared by two jobs: one run at a time over both', async () => {
    const starts: Start[] = [];
    const body = async (ctx: JobContext) => {
      const start: Start = { at: Date.now(), key: 'crm', attempt: ctx.attempt, executionId: ctx.executionId };
      starts.push(start);
      await sleep(150);
      start.end = Date.now();
    };
    const Sync = defineJob('CrmSyncJob', { id: 'crm-sync', limits: ['crm-api'] }, body);
    const Push = defineJob('CrmPushJob', { id: 'crm-push', limits: ['crm-api'] }, body);
    const [a] = await bootMany([Sync, Push], { limits: { 'crm-api': { concurrency: { max: 1 } } } });
    const jobs = a.get(BackgroundJobs);
    for (let i = 0; i < 4; i++) {
      await jobs.enqueue('crm-sync');
      await jobs.enqueue('crm-push');
    }
    await waitFor('all 8 runs done', () => starts.filter((s) => s.end).length >= 8, 15_000);
    expect(peakRunning(starts)).toEqual({ crm: 1 });
  }, 30_000);

  it('setLimit raises one tenant to 50/s while another stays at 5/s', async () => {
    const starts: Start[] = [];
    const Job = defineJob(
      'PlanJob',
      { id: 'plan-rate', rateLimit: { max: 5, durationMs: 1_000, key: 'tenant' } },
      (ctx: JobContext) => {
        starts.push({ at: Date.now(), key: String(ctx.tenantId), attempt: ctx.attempt, executionId: ctx.executionId });
      },
    );
    const [a, b] = await bootMany([Job]);
    await (b ?? a).get(BackgroundJobs).setLimit('plan-rate', 'premium', { rateLimit: { max: 50, durationMs: 1_000 } });
    const jobs = a.get(BackgroundJobs);
    const began = Date.now();
    for (let i = 0; i < 20; i++) {
      await jobs.enqueue('plan-rate', undefined, { tenantId: 'premium' });
      await jobs.enqueue('plan-rate', undefined, { tenantId: 'basic' });
    }
    await waitFor('premium’s 20 done', () => starts.filter((s) => s.key === 'premium').length >= 20, 10_000);
    const premiumDone = Date.now() - began;
    await waitFor('basic’s 20 done', () => starts.filter((s) => s.key === 'basic').length >= 20, 15_000);
    const peaks = peakStartsPerWindow(starts, 1_000 - START_JITTER_MS);
    process.stdout.write(
      `[flow ${transport}] setLimit: premium done in ${premiumDone} ms, peaks ${JSON.stringify(peaks)}\n`,
    );
    expect(premiumDone).toBeLessThan(1_000);
    expect(peaks.basic).toBe(5);
    expect(peaks.premium).toBe(20);
    await expect(jobs.setLimit('no-such-limit', 'x', { concurrency: { max: 1 } })).rejects.toThrow(
      new UnknownLimitError(SET_LIMIT_UNKNOWN('no-such-limit')),
    );
  }, 30_000);

  it('RateLimitedError(1500) holds the key at least 1.5 s and the run completes with retry.attempts 1, at attempt 1', async () => {
    const starts: Start[] = [];
    const Job = defineJob(
      'QuotaJob',
      { id: 'quota', concurrency: { max: 5, key: 'tenant' }, retry: { attempts: 1 } },
      (ctx: JobContext) => {
        starts.push({ at: Date.now(), key: String(ctx.tenantId), attempt: ctx.attempt, executionId: ctx.executionId });
        if (starts.length === 1) throw new RateLimitedError(1_500);
        return 'ok';
      },
    );
    const [a] = await bootMany([Job]);
    const jobs = a.get(BackgroundJobs);
    const first = await jobs.enqueue('quota', undefined, { tenantId: 'acme' });
    const waiting = await waitFor(
      'the first run to be held back',
      async () => (await jobs.getExecution(first))?.waiting,
    );
    expect(waiting).toMatchObject({ reason: 'rate-limit', limit: 'quota', key: 'acme' });
    const other = await jobs.enqueue('quota', undefined, { tenantId: 'acme' });
    const done = await waitFor(
      'both runs done',
      async () => {
        const [x, y] = await Promise.all([jobs.getExecution(first), jobs.getExecution(other)]);
        return x?.state === 'completed' && y?.state === 'completed' ? [x, y] : undefined;
      },
      10_000,
    );
    expect(done?.[0]).toMatchObject({ result: 'ok', attempts: 1 });
    expect(starts.slice(1).map((s) => s.at - starts[0].at)).toEqual([expect.any(Number), expect.any(Number)]);
    expect(Math.min(...starts.slice(1).map((s) => s.at - starts[0].at))).toBeGreaterThanOrEqual(1_500);
    expect(starts.every((s) => s.attempt === 1)).toBe(true);
  }, 30_000);
});

describe('flow control: bad input stops the boot with the job and the value', () => {
  const boot = (jobs: any[], extra: Record<string, unknown> = {}) =>
    startJobsApp({ transport: 'local', prefix: randomPrefix('flow-bad'), jobs, ...extra });

  it.each([
    ['rateLimit.max', { rateLimit: { max: 0, durationMs: 1_000 } }, 0, 'an integer ≥ 1'],
    ['rateLimit.durationMs', { rateLimit: { max: 5, durationMs: 0 } }, 0, 'an integer ≥ 1 (ms)'],
    ['concurrency.max', { concurrency: { max: -1 } }, -1, 'an integer ≥ 1'],
    [
      'concurrency.key',
      { concurrency: { max: 1, key: 'account' } },
      'account',
      "'job', 'tenant' or a function ({ data, tenantId }) => string",
    ],
    ['rateLimit.window', { rateLimit: { max: 1, durationMs: 5, window: 3 } }, 3, 'one of max, durationMs, key'],
  ])('%s', async (option, options, value, expected) => {
    const Job = defineJob('BadLimitJob', { id: 'bad-limit', ...(options as object) });
    await expect(boot([Job])).rejects.toThrow(
      INVALID_LIMIT_OPTION('Job "bad-limit" (class BadLimitJob)', option, value, expected),
    );
  });

  it('a job naming an unknown shared limit', async () => {
    const Job = defineJob('UsesLimitJob', { id: 'uses-limit', limits: ['crm'] });
    await expect(boot([Job], { limits: { mail: { concurrency: { max: 1 } } } })).rejects.toThrow(
      UNKNOWN_SHARED_LIMIT('uses-limit', 'UsesLimitJob', 'crm', ['mail']),
    );
  });
});

@Injectable()
class OpenGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

describe('flow control: why a run waits, through REST', () => {
  const apps: INestApplication[] = [];
  let prefix = '';
  beforeEach(() => {
    prefix = randomPrefix('flow-rest');
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  it('GET executions/:id of a run held by a rate limit names the limit, the key and until when', async () => {
    const Job = defineJob('ReportJob', { id: 'report', rateLimit: { max: 1, durationMs: 60_000, key: 'tenant' } });
    const app = await startHttpJobsApp(apps, prefix, [Job], { operations: { guard: OpenGuard } });
    const jobs = app.get(BackgroundJobs);
    const first = await jobs.enqueue('report', undefined, { tenantId: 'acme' });
    const second = await jobs.enqueue('report', undefined, { tenantId: 'acme' });
    await waitFor('the first run done', async () => (await jobs.getExecution(first))?.state === 'completed');
    const body = await waitFor('the second run held back', async () => {
      const response = await request(app.getHttpServer()).get(`/jobs/executions/${second}`);
      return response.body.waiting ? response.body : undefined;
    });
    expect(body).toMatchObject({ state: 'delayed', attempts: 0 });
    expect(body.waiting).toEqual({ reason: 'rate-limit', limit: 'report', key: 'acme', until: expect.any(String) });
    const until = new Date(body.waiting.until).getTime();
    expect(until).toBeGreaterThan(Date.now() + 50_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 60_001);
  });
});
