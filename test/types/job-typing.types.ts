// Compile-time tests of the public types (run by test/architecture/type-tests.spec.ts and `npm run typecheck`).
// Every `@ts-expect-error` line must fail to compile: an unused one is itself an error (TS2578), so each line below
// proves that the library rejects that call. The lines without it prove that the right calls compile.
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import {
  BackgroundJob,
  BackgroundJobs,
  BackgroundJobsModule,
  JobContext,
  JobEvent,
  JobExecution,
  JobResultOf,
  OnJobEvent,
  PipelineJob,
} from 'nestjs-background-jobs';

interface Report {
  url: string;
}

@PipelineJob({ id: 'send-report' })
class SendReportJob implements BackgroundJob<{ reportId: number }, Report> {
  async execute(ctx: JobContext<{ reportId: number }>): Promise<Report> {
    return { url: `/reports/${ctx.data.reportId}` };
  }
}

// A job typed only by its execute signature (no `implements`).
@PipelineJob({ id: 'count' })
class CountJob {
  execute(ctx: JobContext<string[]>): number {
    return ctx.data.length;
  }
}

@PipelineJob({ id: 'nightly', cron: '0 3 * * *' })
class NightlyJob implements BackgroundJob<void> {
  async execute(): Promise<void> {}
}

// @ts-expect-error a @PipelineJob class must have execute(ctx)
@PipelineJob({ id: 'no-execute' })
class NotAJob {
  run(): void {}
}

const assertType = <T>(value: T): T => value;
type Equals<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
const same = <A, B>(proof: Equals<A, B>): Equals<A, B> => proof;

export async function typedCalls(jobs: BackgroundJobs): Promise<void> {
  // Payloads are checked against the class's JobContext<T>.
  await jobs.enqueue(SendReportJob, { reportId: 42 });
  await jobs.enqueue(SendReportJob, { reportId: 42 }, { delayMs: 1_000 });
  // @ts-expect-error reportId must be a number
  await jobs.enqueue(SendReportJob, { reportId: 'not-a-number' });
  // @ts-expect-error unknown payload shape
  await jobs.enqueue(SendReportJob, { totallyWrong: true });
  // @ts-expect-error Date is not a job class
  await jobs.enqueue(Date, {});
  // @ts-expect-error NotAJob has no execute
  await jobs.enqueue(NotAJob);
  await jobs.enqueue(CountJob, ['a', 'b']);
  // @ts-expect-error CountJob takes string[]
  await jobs.enqueue(CountJob, [1, 2]);
  await jobs.enqueue(NightlyJob);

  // runNow: payload through options.data, result typed from execute's return.
  const run = await jobs.runNow(SendReportJob, { data: { reportId: 7 } });
  const url: string | undefined = run.result?.url;
  same<typeof run.result, Report | undefined>(true);
  same<Awaited<ReturnType<typeof jobs.runNow<typeof CountJob>>>['result'], number | undefined>(true);
  const result = await jobs.runNow(SendReportJob, { data: { reportId: 1 } }).then((e) => e.result);
  same<typeof result, Report | undefined>(true);
  // @ts-expect-error wrong payload through runNow
  await jobs.runNow(SendReportJob, { data: { reportId: 'x' } });
  // @ts-expect-error the result is a Report, not a number
  const wrong: number | undefined = run.result;
  // @ts-expect-error annotating the execution with a different result type fails
  const annotatedWrong: JobExecution<number> = await jobs.runNow(SendReportJob, { data: { reportId: 1 } });
  const annotated: JobExecution<Report> = await jobs.runNow(SendReportJob, { data: { reportId: 1 } });

  // trigger takes a job class or an id.
  await jobs.trigger(NightlyJob);
  await jobs.trigger('nightly');
  // @ts-expect-error Date is not a job class
  await jobs.trigger(Date);

  // String ids stay possible, with unknown types.
  await jobs.enqueue('send-report', { anything: true });
  const byId = await jobs.runNow('send-report');
  same<typeof byId.result, unknown>(true);

  // getExecution is generic in its result.
  const loaded = await jobs.getExecution<JobResultOf<typeof SendReportJob>>('id-1');
  same<NonNullable<typeof loaded>['result'], Report | undefined>(true);
  const untyped = await jobs.getExecution('id-1');
  same<NonNullable<typeof untyped>['result'], unknown>(true);
  assertType<string | undefined>(url);
  void [wrong, annotatedWrong, annotated, result, byId, loaded, untyped];
}

@Injectable()
class AdminGuard implements CanActivate {
  canActivate(_context: ExecutionContext): boolean {
    return true;
  }
}

class NotAGuard {
  check(): boolean {
    return true;
  }
}

export const modules = [
  BackgroundJobsModule.forRoot({ transport: { type: 'local' }, operations: { guard: AdminGuard } }),
  BackgroundJobsModule.forRoot({ transport: { type: 'local' }, operations: { guard: new AdminGuard() } }),
  BackgroundJobsModule.forRoot({
    transport: { type: 'local' },
    operations: { guard: { canActivate: () => Promise.resolve(true) } },
  }),
  // @ts-expect-error a class without canActivate is not a guard
  BackgroundJobsModule.forRoot({ transport: { type: 'local' }, operations: { guard: NotAGuard } }),
  // @ts-expect-error a string is not a guard
  BackgroundJobsModule.forRoot({ transport: { type: 'local' }, operations: { guard: 'admin' } }),
];

// @OnJobEvent types the handler's event by the names it listens to.
export class JobAlerts {
  @OnJobEvent('failed')
  onFailed(event: JobEvent<'failed'>): string {
    return event.failure.message;
  }

  @OnJobEvent('retrying', 'failed')
  onTrouble(event: JobEvent<'retrying' | 'failed'>): string {
    return event.failure.kind;
  }

  @OnJobEvent()
  onAny(event: JobEvent): string {
    return event.name;
  }

  // @ts-expect-error a 'completed' event has no failure: the handler's type does not fit
  @OnJobEvent('completed')
  onCompleted(event: JobEvent<'failed'>): string {
    return event.failure.message;
  }

  // @ts-expect-error not an event name
  @OnJobEvent('finished')
  onFinished(): void {}
}
