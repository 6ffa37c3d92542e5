import { INestApplication } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import request from 'supertest';
import { BackgroundJobs, InvalidJobInputError, OperationsTokenGuard, PermanentJobError } from 'nestjs-background-jobs';
import { INVALID_TENANT_ID } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { EXECUTION_NOT_FOUND } from 'nestjs-background-jobs/operations/operations.messages';
import { defineJob, startHttpJobsApp, startJobsApp } from '../support/jobs-app';
import { LogCapture } from '../support/log-capture';
import { deletePrefix, randomPrefix, testRedisUrl } from '../support/redis';

const TOKEN = 'hardening-token-0123456789';
const auth = { Authorization: `Bearer ${TOKEN}` };

describe('operations surface: ids, tenants and log lines an attacker might shape', () => {
  let prefix: string;
  const apps: INestApplication[] = [];
  const modules: TestingModule[] = [];

  beforeEach(() => {
    prefix = randomPrefix('harden');
  });
  afterEach(async () => {
    await Promise.all([...apps.splice(0), ...modules.splice(0)].map((app) => app.close()));
    await deletePrefix(prefix);
  });

  it('answers 404 for an execution id that names one of BullMQ’s own keys, and touches none of them', async () => {
    const Nightly = defineJob('NightlyJob', { id: 'nightly', cron: '0 3 * * *' });
    const Broken = defineJob('BrokenJob', { id: 'broken' }, () => {
      throw new PermanentJobError('broken on purpose');
    });
    const app = await startHttpJobsApp(apps, prefix, [Nightly, Broken], {
      operations: { guard: new OperationsTokenGuard({ token: TOKEN }) },
    });
    const jobs = app.get(BackgroundJobs);
    const failed = await jobs.runNow(Broken);
    expect(failed.state).toBe('failed');
    const server = app.getHttpServer();
    // NOTE: after a failed run and with a scheduler, the queue holds the events stream, the meta hash, the repeat
    // set and the id counter; a run id equal to one of those names must not read or change them.
    for (const key of ['events', 'meta', 'repeat', 'stalled-check', 'id', 'failed', 'wait', 'de', 'pc']) {
      for (const [method, path] of [
        ['get', `/jobs/executions/${key}`],
        ['post', `/jobs/executions/${key}/retry`],
        ['post', `/jobs/executions/${key}/cancel`],
      ] as const) {
        const answer = await request(server)[method](path).set(auth);
        expect([key, method, answer.status, answer.body.message]).toEqual([key, method, 404, EXECUTION_NOT_FOUND(key)]);
      }
    }
    // The real run is still found and retried.
    await request(server).post(`/jobs/executions/${failed.executionId}/retry`).set(auth).expect(200);
  });

  it('refuses tenant ids with bidirectional controls (U+202E and the like), naming the job', async () => {
    const Report = defineJob('ReportJob', { id: 'report' });
    const app = await startJobsApp({ prefix, jobs: [Report], connection: { url: testRedisUrl() } });
    modules.push(app);
    const jobs = app.get(BackgroundJobs);
    for (const tenantId of ['acme\u202Etxt.exe', 'a\u2066b', 'a\u200Fb', 'a\u061Cb']) {
      const attempt = jobs.enqueue(Report, undefined, { tenantId });
      await expect(attempt).rejects.toThrow(InvalidJobInputError);
      await expect(jobs.enqueue(Report, undefined, { tenantId })).rejects.toThrow(
        INVALID_TENANT_ID('report', tenantId),
      );
    }
    expect((await jobs.listExecutions({ jobId: 'report' })).total).toBe(0);
    await expect(jobs.enqueue(Report, undefined, { tenantId: 'acme-ünïcödé' })).resolves.toEqual(expect.any(String));
  });

  it('writes a failure message with line breaks as one log line, so it cannot forge another run’s line', async () => {
    const forged = 'no route\nERROR [BackgroundJobs] completed job=payroll execution=1 tenant=null attempt=1/1\r\nend';
    const Broken = defineJob('BrokenJob', { id: 'broken' }, () => {
      throw new PermanentJobError(forged);
    });
    const logs = new LogCapture();
    const { Test } = await import('@nestjs/testing');
    const { BackgroundJobsModule } = await import('nestjs-background-jobs');
    const moduleRef = await Test.createTestingModule({
      imports: [
        BackgroundJobsModule.forRoot({ transport: { type: 'bullmq', connection: { url: testRedisUrl() }, prefix } }),
      ],
      providers: [Broken],
    }).compile();
    moduleRef.useLogger(logs);
    modules.push(moduleRef);
    await moduleRef.init();
    const run = await moduleRef.get(BackgroundJobs).runNow(Broken);
    expect(run.failure?.message).toBe(forged);
    const [line] = logs.find('error', `execution=${run.executionId}`);
    expect(line.message).toMatch(/^failed job=broken /);
    expect(line.message).not.toMatch(/[\r\n]/);
    expect(line.message).toContain('no route\\nERROR [BackgroundJobs] completed job=payroll');
  });
});
