import { Test, TestingModule } from '@nestjs/testing';
import { BackgroundJobs, BackgroundJobsModule, PermanentJobError, TransientJobError } from 'nestjs-background-jobs';
import { defineJob } from '../support/jobs-app';
import { LogCapture } from '../support/log-capture';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../support/redis';

describe('run log lines', () => {
  let prefix: string;
  let logs: LogCapture;
  let app: TestingModule | undefined;

  beforeEach(() => {
    prefix = randomPrefix('logs');
    logs = new LogCapture();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await deletePrefix(prefix);
  });

  const boot = async (jobs: any[]) => {
    app = await Test.createTestingModule({
      imports: [
        BackgroundJobsModule.forRoot({ transport: { type: 'bullmq', connection: { url: testRedisUrl() }, prefix } }),
      ],
      providers: jobs,
    }).compile();
    app.useLogger(logs);
    await app.init();
    return app.get(BackgroundJobs);
  };
  const print = (title: string) =>
    process.stdout.write(
      `[run-logs] ${title}\n${logs
        .jobLines()
        .filter((l) => !/Registered|Shutting|Shut down/.test(l))
        .map((l) => `  ${l}`)
        .join('\n')}\n`,
    );

  it('a retried transient failure', async () => {
    const Job = defineJob('SyncJob', { id: 'sync', retry: { attempts: 2, backoffMs: 250 } }, (ctx) => {
      if (ctx.attempt < 2) throw new TransientJobError('upstream answered 503');
      return 'ok';
    });
    const jobs = await boot([Job]);
    const { executionId } = await jobs.runNow(Job);
    print('retried transient failure');

    const retry = logs.find('warn', 'retrying job=sync');
    expect(retry.map((l) => l.message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^retrying job=sync execution=${executionId} tenant=null attempt=1/2 kind=transient: failed after \\d+ ms, next attempt in 250 ms: upstream answered 503$`,
        ),
      ),
    ]);
    // NOTE: a recognised transient error is expected: no stack for it, and nothing at ERROR.
    expect(retry[0].params).toEqual([]);
    expect(logs.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('an unrecognised error: its stack with each failed attempt, once', async () => {
    const Job = defineJob('MysteryJob', { id: 'mystery', retry: { attempts: 2, backoffMs: 100 } }, () => {
      throw new Error('boom');
    });
    const jobs = await boot([Job]);
    const { executionId } = await jobs.runNow(Job);

    const lines = logs.lines.filter((l) => l.message.includes(`execution=${executionId}`) && l.level !== 'debug');
    expect(lines.map((l) => [l.level, l.message.replace(/\d+ ms/, 'N ms').split(': failed')[0]])).toEqual([
      ['warn', `retrying job=mystery execution=${executionId} tenant=null attempt=1/2 kind=transient`],
      ['error', `failed job=mystery execution=${executionId} tenant=null attempt=2/2 kind=transient after N ms: boom`],
    ]);
    expect(lines[0].message).toContain('next attempt in 100 ms: boom');
    for (const line of lines) {
      expect(line.params).toEqual([expect.stringMatching(/^Error: boom\n\s+at .*run-logs\.e2e-spec\.ts/)]);
    }
  });

  it('a permanent failure', async () => {
    const Job = defineJob('ImportJob', { id: 'import', tenancy: 'host' }, () => {
      throw new PermanentJobError('row 3: "price" is not a number');
    });
    const jobs = await boot([Job]);
    const { executionId } = await jobs.runNow(Job, { tenantId: 'acme' });
    print('permanent failure');

    const failed = logs.lines.filter((l) => l.level === 'error');
    expect(failed.map((l) => l.message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^failed job=import execution=${executionId} tenant=acme attempt=1/3 kind=permanent after \\d+ ms: row 3: "price" is not a number$`,
        ),
      ),
    ]);
    expect(failed[0].params).toEqual([
      expect.stringMatching(/^PermanentJobError: row 3: "price" is not a number\n\s+at .*run-logs\.e2e-spec\.ts/),
    ]);
  });

  it('a deliberate cancel', async () => {
    let started = false;
    const Job = defineJob('ExportJob', { id: 'export' }, async (ctx) => {
      started = true;
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      ctx.signal.throwIfAborted();
    });
    const jobs = await boot([Job]);
    const id = await jobs.enqueue(Job);
    await waitFor('the run to start', () => started);
    await jobs.cancel(id);
    await waitFor('the run to end cancelled', async () => (await jobs.getExecution(id))?.state === 'cancelled');
    await waitFor('the cancel line', () => logs.find('log', 'cancelled job=export').length === 1);
    print('cancel');

    expect(logs.find('log', 'cancelled job=export')[0].message).toMatch(
      new RegExp(
        `^cancelled job=export execution=${id} tenant=null attempt=1/3 kind=cancelled after \\d+ ms: Execution ${id} was cancelled on request\\.$`,
      ),
    );
    expect(logs.lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});
