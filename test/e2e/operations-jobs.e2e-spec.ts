import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { BackgroundJobs, JobContext, OperationsTokenGuard, PermanentJobError } from 'nestjs-background-jobs';
import { JOB_NOT_FOUND, PAYLOAD_REJECTED_BY_SCHEMA } from 'nestjs-background-jobs/operations/operations.messages';
import { defineJob, startHttpJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, waitFor } from '../support/redis';

const FULL = 'jobs-rest-full-token-0123';
const READ_ONLY = 'jobs-rest-read-only-token';
const auth = { Authorization: `Bearer ${FULL}` };

describe('operations REST: job definitions, enqueue with a payload, bulk retry', () => {
  let prefix: string;
  const apps: INestApplication[] = [];

  beforeEach(() => {
    prefix = randomPrefix('opsjobs');
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  const schema = (data: unknown) => {
    const to = (data as { to?: unknown } | undefined)?.to;
    if (typeof to !== 'string' || !to.includes('@')) throw new Error('"to" must be an e-mail address');
    return data;
  };

  it('lists job definitions, enqueues with a payload the schema accepts, and refuses one it does not (400 naming why)', async () => {
    const seen: unknown[] = [];
    const Mail = defineJob(
      'MailJob',
      { id: 'mail', queue: 'mail', schema, retry: { attempts: 2 } },
      (ctx: JobContext) => {
        seen.push(ctx.data);
      },
    );
    const Nightly = defineJob('NightlyJob', { id: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin' });
    const app = await startHttpJobsApp(apps, prefix, [Mail, Nightly], {
      operations: { guard: new OperationsTokenGuard({ token: FULL, readOnlyToken: READ_ONLY }) },
    });
    const server = app.getHttpServer();

    const list = await request(server).get('/jobs/jobs').set(auth).expect(200);
    expect(list.headers['cache-control']).toBe('no-store');
    expect(list.body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: 'mail',
          queue: 'mail',
          schedule: null,
          hasSchema: true,
          retry: { attempts: 2, backoffMs: 1_000 },
        }),
        expect.objectContaining({
          id: 'nightly',
          schedule: { cron: '0 3 * * *', timezone: 'Europe/Berlin' },
          hasSchema: false,
        }),
      ]),
    );

    const refused = await request(server)
      .post('/jobs/jobs/mail/enqueue')
      .set(auth)
      .send({ data: { to: 'nobody' } })
      .expect(400);
    expect(refused.body.message).toBe(PAYLOAD_REJECTED_BY_SCHEMA('mail', '"to" must be an e-mail address'));
    await request(server).post('/jobs/jobs/mail/enqueue').set(auth).send({ data: {}, extra: 1 }).expect(400);
    const unknown = await request(server).post('/jobs/jobs/nope/enqueue').set(auth).send({}).expect(404);
    expect(unknown.body.message).toBe(JOB_NOT_FOUND('nope', ['mail', 'nightly']));
    await request(server)
      .post('/jobs/jobs/mail/enqueue')
      .set({ Authorization: `Bearer ${READ_ONLY}` })
      .send({ data: { to: 'a@example.com' } })
      .expect(403);
    expect((await app.get(BackgroundJobs).listExecutions({ jobId: 'mail' })).total).toBe(0);

    const accepted = await request(server)
      .post('/jobs/jobs/mail/enqueue')
      .set(auth)
      .send({ data: { to: 'ops@example.com' }, tenantId: 'acme' })
      .expect(202);
    const jobs = app.get(BackgroundJobs);
    await waitFor(
      'the enqueued run to complete',
      async () => (await jobs.getExecution(accepted.body.executionId))?.state === 'completed',
      10_000,
      50,
    );
    expect(await jobs.getExecution(accepted.body.executionId)).toMatchObject({
      state: 'completed',
      tenantId: 'acme',
      data: { to: 'ops@example.com' },
    });
    expect(seen).toEqual([{ to: 'ops@example.com' }]);
  });

  it('POST executions/retry retries every failed run matching the filter, and only those', async () => {
    let broken = true;
    const Flaky = defineJob('FlakyJob', { id: 'flaky' }, () => {
      if (broken) throw new PermanentJobError('the downstream is down');
    });
    const Other = defineJob('OtherJob', { id: 'other' }, () => {
      throw new PermanentJobError('always broken');
    });
    const app = await startHttpJobsApp(apps, prefix, [Flaky, Other], {
      operations: { guard: new OperationsTokenGuard({ token: FULL, readOnlyToken: READ_ONLY }) },
    });
    const jobs = app.get(BackgroundJobs);
    const server = app.getHttpServer();
    for (let i = 0; i < 20; i++) await jobs.enqueue(Flaky, undefined);
    await jobs.enqueue(Other, undefined);
    const failed = async (jobId: string) => (await jobs.listExecutions({ jobId, states: ['failed'] })).total;
    await waitFor(
      '21 failed runs',
      async () => (await failed('flaky')) === 20 && (await failed('other')) === 1,
      20_000,
      100,
    );

    await request(server).post('/jobs/executions/retry').set(auth).send({ state: 'completed' }).expect(400);
    await request(server)
      .post('/jobs/executions/retry')
      .set({ Authorization: `Bearer ${READ_ONLY}` })
      .send({ state: 'failed', jobId: 'flaky' })
      .expect(403);
    expect(await failed('flaky')).toBe(20);

    broken = false;
    const answer = await request(server)
      .post('/jobs/executions/retry')
      .set(auth)
      .send({ state: 'failed', jobId: 'flaky' })
      .expect(200);
    expect(answer.body.retried).toBe(20);
    await waitFor(
      '20 retried runs completed',
      async () => (await jobs.listExecutions({ jobId: 'flaky', states: ['completed'] })).total === 20,
      20_000,
      100,
    );
    expect(await failed('flaky')).toBe(0);
    expect(await failed('other')).toBe(1);
  });
});
