import { Injectable, Module } from '@nestjs/common';
import { BackgroundJobs, JobContext, JobInterceptor } from 'nestjs-background-jobs';
import { UNRESOLVABLE_INTERCEPTOR } from 'nestjs-background-jobs/contracts/background-jobs.messages';
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
    const app = await boot({ jobs: [Job], imports: [AuditModule], providers: [AuditInterceptor], interceptors: [AuditInterceptor] });

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
