import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { BackgroundJobs, OperationsTokenGuard } from 'nestjs-background-jobs';
import { defineJob, startHttpJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, waitFor } from '../support/redis';

const TOKEN = 'schedules-rest-token-0123456789';
const auth = { Authorization: `Bearer ${TOKEN}` };

// The dashboard's schedules page once acted on a runtime schedule's job id: pausing runtime schedule `digest-eu` of
// job `digest` paused `digest`'s own schedule and left `digest-eu` running. These routes act on the schedule id.
describe('recurring/:id/{pause,resume,trigger} act on the schedule they name, not on its job', () => {
  let prefix: string;
  const apps: INestApplication[] = [];

  beforeEach(() => {
    prefix = randomPrefix('ops-sched');
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  it('pauses and resumes only the runtime schedule named, and triggers it with its own payload and tenant', async () => {
    const received: Array<{ data: unknown; tenantId: string | null }> = [];
    const Digest = defineJob('DigestJob', { id: 'digest', cron: '0 4 * * *', data: { region: 'all' } }, (ctx) => {
      received.push({ data: ctx.data, tenantId: ctx.tenantId });
    });
    const app = await startHttpJobsApp(apps, prefix, [Digest], {
      operations: { guard: new OperationsTokenGuard({ token: TOKEN }) },
    });
    const jobs = app.get(BackgroundJobs);
    await jobs.upsertSchedule('digest', {
      id: 'digest-eu',
      cron: '30 5 * * *',
      data: { region: 'eu' },
      tenantId: 'acme',
    });
    const server = app.getHttpServer();
    const paused = async () =>
      Object.fromEntries((await jobs.listRecurring()).map((r) => [r.scheduleId, r.paused])) as Record<string, boolean>;

    const answer = await request(server).post('/jobs/recurring/digest-eu/pause').set(auth).expect(200);
    expect(answer.body).toMatchObject({ scheduleId: 'digest-eu', jobId: 'digest', paused: true });
    expect(await paused()).toEqual({ digest: false, 'digest-eu': true });

    await request(server).post('/jobs/recurring/digest/pause').set(auth).expect(200);
    await request(server).post('/jobs/recurring/digest-eu/resume').set(auth).expect(200);
    expect(await paused()).toEqual({ digest: true, 'digest-eu': false });

    const triggered = await request(server).post('/jobs/recurring/digest-eu/trigger').set(auth).expect(202);
    expect(triggered.body).toMatchObject({ jobId: 'digest' });
    await waitFor(
      'the triggered run',
      async () => (await jobs.getExecution(triggered.body.executionId))?.state === 'completed',
    );
    expect(received).toEqual([{ data: { region: 'eu' }, tenantId: 'acme' }]);
  });
});
