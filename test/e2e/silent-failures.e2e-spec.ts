import { Test, TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import {
  BackgroundJobs,
  BackgroundJobsModule,
  BackgroundJobsModuleOptions,
  InvalidJobInputError,
  JobContext,
} from 'nestjs-background-jobs';
import {
  DEFAULT_PREFIX_IN_PRODUCTION,
  PAYLOAD_CHANGED_BY_JSON,
  SHUTDOWN_DRAIN,
  SHUTDOWN_HOOKS_DISABLED,
  UNPROVIDED_JOB,
} from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { SHUTDOWN_HOOKS_CHECK_MS } from 'nestjs-background-jobs/background-jobs.registrar';
import { defineJob } from '../support/jobs-app';
import { LogCapture } from '../support/log-capture';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../support/redis';

describe('no silent failures: warnings at boot and shutdown, payloads JSON would change', () => {
  let prefix: string;
  let logs: LogCapture;
  const apps: TestingModule[] = [];

  beforeEach(() => {
    prefix = randomPrefix('silent');
    logs = new LogCapture();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  const boot = async (
    options: Partial<BackgroundJobsModuleOptions>,
    providers: any[],
    before?: (app: TestingModule) => void,
  ) => {
    const app = await Test.createTestingModule({
      imports: [
        BackgroundJobsModule.forRoot({
          transport: { type: 'bullmq', connection: { url: testRedisUrl() }, prefix },
          ...options,
        }),
      ],
      providers,
    }).compile();
    app.useLogger(logs);
    before?.(app);
    apps.push(app);
    await app.init();
    return app;
  };

  it('warns at boot, naming the class, for a @PipelineJob class no module provides', async () => {
    const Provided = defineJob('ProvidedJob', { id: 'provided' });
    defineJob('ForgottenReportJob', { id: 'forgotten-report', cron: '0 3 * * *' });

    await boot({}, [Provided]);

    expect(logs.find('warn', UNPROVIDED_JOB('ForgottenReportJob', 'forgotten-report'))).toHaveLength(1);
    expect(logs.find('warn', 'ProvidedJob')).toHaveLength(0);
  });

  it('does not warn about a class another app of the same process provides (tests, benches), and still about one none provides', async () => {
    const ReportJob = defineJob('OtherAppsReportJob', { id: 'other-apps-report', cron: '0 3 * * *' });
    const InvoiceJob = defineJob('ThisAppsInvoiceJob', { id: 'this-apps-invoice' });
    defineJob('NobodysJob', { id: 'nobodys', cron: '0 4 * * *' });
    await boot({}, [ReportJob]);
    const first = logs;

    logs = new LogCapture();
    await boot({}, [InvoiceJob]);

    expect(first.find('warn', UNPROVIDED_JOB('NobodysJob', 'nobodys'))).toHaveLength(1);
    expect(first.find('warn', UNPROVIDED_JOB('ThisAppsInvoiceJob', 'this-apps-invoice'))).toHaveLength(1);
    expect(logs.find('warn', 'OtherAppsReportJob')).toHaveLength(0);
    expect(logs.find('warn', UNPROVIDED_JOB('NobodysJob', 'nobodys'))).toHaveLength(1);
  });

  it(`warns once, ${SHUTDOWN_HOOKS_CHECK_MS} ms after boot, when shutdown hooks are not enabled, and not when they are`, async () => {
    const Job = defineJob('AnyJob', { id: 'any' });
    await boot({}, [Job]);
    await waitFor(
      'the shutdown-hooks warning',
      () => logs.find('warn', SHUTDOWN_HOOKS_DISABLED).length > 0,
      SHUTDOWN_HOOKS_CHECK_MS + 2_000,
    );
    expect(logs.find('warn', SHUTDOWN_HOOKS_DISABLED)).toHaveLength(1);

    const enabled = new LogCapture();
    logs = enabled;
    await boot({}, [Job], (app) => app.enableShutdownHooks());
    // NOTE: an absence can only be shown by waiting out the check: its delay plus a 500 ms margin.
    await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_HOOKS_CHECK_MS + 500));
    expect(enabled.find('warn', SHUTDOWN_HOOKS_DISABLED)).toHaveLength(0);
  });

  it('logs the drain on shutdown: how long it waits for how many runs, then how they ended', async () => {
    let started = false;
    const Job = defineJob('ReportJob', { id: 'report' }, async () => {
      started = true;
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    const app = await boot({ worker: { shutdownGraceMs: 25_000 } }, [Job]);
    await app.get(BackgroundJobs).enqueue(Job);
    await waitFor('the run to start', () => started);

    await app.close();

    expect(logs.find('log', SHUTDOWN_DRAIN(1, 25_000)).map((l) => l.message)).toEqual([
      'Shutting down: waiting up to 25 s for 1 run to finish (worker.shutdownGraceMs); after that, running jobs are aborted and handed back to the queue.',
    ]);
    expect(logs.find('log', 'Shut down after').map((l) => l.message)).toEqual([
      expect.stringMatching(/: 1 run finished, 0 handed back to the queue\.$/),
    ]);
  });

  describe('payloads that JSON would change', () => {
    class Money {
      constructor(readonly cents: number) {}
      format(): string {
        return `${this.cents / 100} EUR`;
      }
    }
    it.each<[string, unknown, string, string, string]>([
      ['a Date', { sendAt: new Date('2026-01-01T00:00:00Z') }, 'data.sendAt', 'a Date', 'an ISO string'],
      ['a Map', { totals: new Map([['a', 1]]) }, 'data.totals', 'a Map', '{}'],
      ['a Set', { tags: { list: new Set(['x']) } }, 'data.tags.list', 'a Set', '{}'],
      ['undefined in an array', { ids: [1, undefined, 3] }, 'data.ids[1]', 'undefined in an array', 'null'],
      [
        'a class instance with methods',
        { lines: [{ price: new Money(250) }] },
        'data.lines[0].price',
        'an instance of Money',
        'a plain object without its methods or prototype',
      ],
    ])('rejects %s, naming the path, and enqueues nothing', async (_label, data, path, what, arrivesAs) => {
      const Job = defineJob('ImportJob', { id: 'import' });
      const app = await boot({ worker: false }, [Job]);
      const queue = new Queue('background-jobs', { connection: { url: testRedisUrl() }, prefix });
      try {
        await expect(app.get(BackgroundJobs).enqueue(Job, data)).rejects.toThrow(
          new InvalidJobInputError(PAYLOAD_CHANGED_BY_JSON('import', path, what, arrivesAs, true)),
        );
        expect(await queue.count()).toBe(0);
      } finally {
        await queue.close();
      }
    });

    it("with payloadChanges: 'warn', warns naming the path and the job receives what JSON made of it", async () => {
      const received: unknown[] = [];
      const Job = defineJob('ImportJob', { id: 'import' }, (ctx: JobContext<any>) => received.push(ctx.data));
      const app = await boot({ payloadChanges: 'warn' }, [Job]);

      const execution = await app
        .get(BackgroundJobs)
        .runNow(Job, { data: { sendAt: new Date('2026-01-01T00:00:00Z'), totals: new Map([['a', 1]]) } });

      expect(execution.state).toBe('completed');
      expect(
        logs.find('warn', PAYLOAD_CHANGED_BY_JSON('import', 'data.sendAt', 'a Date', 'an ISO string', false)),
      ).toHaveLength(1);
      expect(received).toEqual([{ sendAt: '2026-01-01T00:00:00.000Z', totals: {} }]);
    });

    it('accepts plain JSON, null-prototype objects and instances of classes without methods', async () => {
      class Dto {
        id = 7;
      }
      const Job = defineJob('ImportJob', { id: 'import' });
      const app = await boot({ worker: false }, [Job]);
      const jobs = app.get(BackgroundJobs);

      await expect(
        jobs.enqueue(Job, {
          a: [1, 'two', null, { b: true }],
          c: Object.assign(Object.create(null), { d: 1 }),
          e: new Dto(),
          u: undefined,
        }),
      ).resolves.toEqual(expect.any(String));
    });
  });

  it('warns when the default prefix is used with NODE_ENV=production, and not with a prefix of its own', async () => {
    const queue = `${prefix}-q`;
    const Job = defineJob('ImportJob', { id: 'import', queue });
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await boot({ worker: false }, [Job]);
      await boot({ worker: false, transport: { type: 'bullmq', connection: { url: testRedisUrl() } } }, [Job]);
    } finally {
      process.env.NODE_ENV = previous;
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await deletePrefix(`bull:${queue}`);
      await deletePrefix('bull:bgj');
    }

    expect(logs.find('warn', DEFAULT_PREFIX_IN_PRODUCTION([queue]))).toHaveLength(1);
  });
});
