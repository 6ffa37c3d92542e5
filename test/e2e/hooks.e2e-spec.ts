import { Injectable, Module } from '@nestjs/common';
import {
  BackgroundJobs,
  BackgroundJobsMetrics,
  DistributedLock,
  JobContext,
  JobEvent,
  JobInterceptor,
  OnJobEvent,
  PermanentJobError,
  TransientJobError,
} from 'nestjs-background-jobs';
import { LogCapture } from '../support/log-capture';
import { waitFor } from '../support/redis';
import { UNKNOWN_JOB_EVENT, UNRESOLVABLE_INTERCEPTOR } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { appsPerTest, defineJob } from '../support/jobs-app';

@Injectable()
class AuditLog {
  readonly entries: string[] = [];
}

@Module({ providers: [AuditLog], exports: [AuditLog] })
class AuditModule {}

@Injectable()
class AuditInterceptor implements JobInterceptor {
  constructor(readonly audit: AuditLog) {}

  async intercept(ctx: JobContext, next: () => Promise<unknown>): Promise<unknown> {
    this.audit.entries.push(`before ${ctx.jobId}`);
    const result = await next();
    this.audit.entries.push(`after ${ctx.jobId}: ${String(result)}`);
    return result;
  }
}

class StatelessInterceptor implements JobInterceptor {
  static calls = 0;
  intercept(_ctx: JobContext, next: () => Promise<unknown>): Promise<unknown> {
    StatelessInterceptor.calls += 1;
    return next();
  }
}

describe('hooks: interceptors resolved through Nest DI', () => {
  const { boot } = appsPerTest('hooks');

  it('an interceptor given as a class is the provider the host declared, with its dependencies injected', async () => {
    const Job = defineJob('ReportJob', { id: 'report' }, () => 'sent');
    const app = await boot({
      jobs: [Job],
      imports: [AuditModule],
      providers: [AuditInterceptor],
      interceptors: [AuditInterceptor],
    });

    const execution = await app.get(BackgroundJobs).runNow(Job);

    expect(execution).toMatchObject({ state: 'completed', result: 'sent' });
    expect(app.get(AuditLog).entries).toEqual(['before report', 'after report: sent']);
  });

  it('a class no module provides is created by DI; classes and instances run in the given order', async () => {
    const order: string[] = [];
    const instance: JobInterceptor = { intercept: (_ctx, next) => (order.push('instance'), next()) };
    const Job = defineJob('ReportJob', { id: 'report' }, () => order.push('execute'));
    StatelessInterceptor.calls = 0;
    const app = await boot({ jobs: [Job], interceptors: [StatelessInterceptor, instance] });

    await app.get(BackgroundJobs).runNow(Job);

    expect(StatelessInterceptor.calls).toBe(1);
    expect(order).toEqual(['instance', 'execute']);
  });

  it('refuses to boot, naming the class, when an interceptor class cannot be created', async () => {
    const Job = defineJob('ReportJob', { id: 'report' });

    const booting = boot({ jobs: [Job], interceptors: [AuditInterceptor] });

    const error = (await booting.catch((e: Error) => e)) as Error;
    const [before, after] = UNRESOLVABLE_INTERCEPTOR('AuditInterceptor', '<reason>').split('<reason>');
    expect(error.message.startsWith(before)).toBe(true);
    expect(error.message).toContain('AuditLog at index [0]');
    expect(error.message.endsWith(after)).toBe(true);
  });
});

@Injectable()
class RunJournal {
  readonly seen: string[] = [];
  readonly events: JobEvent[] = [];

  @OnJobEvent('started', 'completed', 'failed', 'skipped', 'cancelled', 'retrying')
  record(event: JobEvent): void {
    this.events.push(event);
    this.seen.push(`${event.jobId}:${event.name}:${event.attempt}`);
  }

  @OnJobEvent('failed')
  onFailed(event: JobEvent<'failed'>): void {
    this.seen.push(`${event.jobId}:failed-handler:${event.failure.kind}`);
  }

  @OnJobEvent('completed')
  brokenHandler(): void {
    throw new Error('the pager is down');
  }
}

describe('hooks: @OnJobEvent methods observe every run', () => {
  const { boot } = appsPerTest('events');

  it('a provider method gets started, retrying, completed, failed, cancelled and skipped, with their fields', async () => {
    let cancelStarted = false;
    const Flaky = defineJob('FlakyJob', { id: 'flaky', retry: { attempts: 2, backoffMs: 50 } }, (ctx) => {
      if (ctx.attempt === 1) throw new TransientJobError('503 from upstream');
      return 'ok';
    });
    const Broken = defineJob('BrokenJob', { id: 'broken' }, () => {
      throw new PermanentJobError('row 3 is invalid');
    });
    const Slow = defineJob('SlowJob', { id: 'slow' }, async (ctx) => {
      cancelStarted = true;
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    });
    const Locked = defineJob('LockedJob', { id: 'locked', lock: { ttlMs: 5_000 } });
    const logs = new LogCapture();
    const app = await boot({ jobs: [Flaky, Broken, Slow, Locked], providers: [RunJournal] });
    app.useLogger(logs);
    const jobs = app.get(BackgroundJobs);
    const journal = app.get(RunJournal);

    await jobs.runNow(Flaky);
    await jobs.runNow(Broken);
    const slowId = await jobs.enqueue(Slow);
    await waitFor('the slow run to start', () => cancelStarted);
    await jobs.cancel(slowId);
    await waitFor('the cancel event', () => journal.seen.includes('slow:cancelled:1'));
    const lease = await app.get(DistributedLock).acquire('locked', { ttlMs: 5_000 });
    await jobs.runNow(Locked);
    await lease?.release();

    expect(journal.seen).toEqual([
      'flaky:started:1',
      'flaky:retrying:1',
      'flaky:started:2',
      'flaky:completed:2',
      'broken:started:1',
      'broken:failed:1',
      'broken:failed-handler:permanent',
      'slow:started:1',
      'slow:cancelled:1',
      'locked:started:1',
      'locked:skipped:1',
    ]);
    const byName = (name: string, jobId: string) =>
      journal.events.find((e) => e.name === name && e.jobId === jobId) as any;
    expect(byName('retrying', 'flaky')).toMatchObject({
      attempts: 2,
      retryDelayMs: 50,
      tenantId: null,
      failure: { kind: 'transient', message: '503 from upstream', unrecognised: false },
    });
    expect(byName('completed', 'flaky')).toMatchObject({ result: 'ok', durationMs: expect.any(Number) });
    expect(byName('failed', 'broken').failure.error).toBeInstanceOf(PermanentJobError);
    expect(byName('cancelled', 'slow')).toMatchObject({ executionId: slowId, failure: { kind: 'cancelled' } });
    expect(byName('skipped', 'locked')).toMatchObject({
      kind: 'lock-busy',
      reason: expect.stringContaining('lock "locked" is held'),
    });
    // The metrics count from the same events: one line per job, outcome and failure kind.
    const counted = (
      await app.get(BackgroundJobsMetrics).registry.getSingleMetric('background_jobs_runs_total')!.get()
    ).values
      .map((v) => `${v.labels.job}/${v.labels.outcome}/${v.labels.failure_kind}=${v.value}`)
      .sort();
    expect(counted).toEqual([
      'broken/failed/permanent=1',
      'flaky/completed/none=1',
      'flaky/failed/transient=1',
      'locked/skipped/none=1',
      'slow/failed/cancelled=1',
    ]);
    const lockSkips = await app
      .get(BackgroundJobsMetrics)
      .registry.getSingleMetric('background_jobs_lock_skips_total')!
      .get();
    expect(lockSkips.values.map((v) => [v.labels.job, v.value])).toEqual([['locked', 1]]);
    // A handler that throws is logged with its name and changes nothing: flaky still completed.
    expect(
      logs.find('warn', '@OnJobEvent handler RunJournal.brokenHandler failed on the completed event of job=flaky'),
    ).toHaveLength(1);
  });

  it('refuses to boot on an unknown event name, naming the method', async () => {
    @Injectable()
    class Typo {
      @OnJobEvent('finished' as never)
      onFinished(): void {}
    }
    const Job = defineJob('ReportJob', { id: 'report' });

    await expect(boot({ jobs: [Job], providers: [Typo] })).rejects.toThrow(
      UNKNOWN_JOB_EVENT('Typo.onFinished', 'finished', [
        'started',
        'completed',
        'failed',
        'skipped',
        'cancelled',
        'retrying',
        'step',
      ]),
    );
  });
});
