import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { OperationsTokenGuard } from 'nestjs-background-jobs';
import { OPERATIONS_READ_ONLY_ACTION } from 'nestjs-background-jobs/operations/operations.messages';
import { defineJob, startHttpJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix } from '../support/redis';

const FULL = 'full-access-token-0123456789';
const READ_ONLY = 'read-only-token-0123456789';

describe('OperationsTokenGuard on the operations surface', () => {
  let prefix: string;
  const apps: INestApplication[] = [];

  beforeEach(() => {
    prefix = randomPrefix();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  const boot = (): Promise<INestApplication> =>
    startHttpJobsApp(apps, prefix, [defineJob('NightlyJob', { id: 'nightly', cron: '0 3 * * *' })], {
      operations: { guard: new OperationsTokenGuard({ token: FULL, readOnlyToken: READ_ONLY }) },
    });

  it('answers 401 without a token or with a wrong one', async () => {
    const server = (await boot()).getHttpServer();
    await request(server).get('/jobs/recurring').expect(401);
    await request(server).get('/jobs/recurring').set('Authorization', `Bearer ${FULL}x`).expect(401);
  });

  it('lets the full token read and act', async () => {
    const server = (await boot()).getHttpServer();
    const list = await request(server).get('/jobs/recurring').set('Authorization', `Bearer ${FULL}`).expect(200);
    expect(list.body.map((row: { jobId: string }) => row.jobId)).toContain('nightly');
    await request(server).post('/jobs/recurring/nightly/pause').set('Authorization', `Bearer ${FULL}`).expect(200);
  });

  it('lets the read-only token read but answers 403 on an action, which then has no effect', async () => {
    const server = (await boot()).getHttpServer();
    const auth = { Authorization: `Bearer ${READ_ONLY}` };
    await request(server).get('/jobs/recurring').set(auth).expect(200);
    const refused = await request(server).post('/jobs/recurring/nightly/pause').set(auth).expect(403);
    expect(refused.body.message).toBe(OPERATIONS_READ_ONLY_ACTION('POST'));
    const after = await request(server).get('/jobs/recurring').set(auth).expect(200);
    expect(after.body.find((row: { jobId: string }) => row.jobId === 'nightly').paused).toBe(false);
  });
});
