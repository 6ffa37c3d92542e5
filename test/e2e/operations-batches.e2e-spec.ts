import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { BackgroundJobs, OperationsTokenGuard } from 'nestjs-background-jobs';
import { BATCH_NOT_FOUND, INVALID_QUERY } from 'nestjs-background-jobs/operations/operations.messages';
import { defineJob, startHttpJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, waitFor } from '../support/redis';

const TOKEN = 'batches-token-0123456789';
const auth = { Authorization: `Bearer ${TOKEN}` };

describe('GET <path>/batches/:id/executions: a page of a batch’s runs', () => {
  let prefix: string;
  const apps: INestApplication[] = [];

  beforeEach(() => {
    prefix = randomPrefix('ops-batches');
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  it('answers the children in index order, page by page, with the batch’s total; 404 for an unknown batch, 400 for an unknown parameter', async () => {
    const Child = defineJob('ChildJob', { id: 'child' }, (ctx) => ctx.step('only', () => 1));
    const app = await startHttpJobsApp(apps, prefix, [Child], {
      operations: { guard: new OperationsTokenGuard({ token: TOKEN }) },
    });
    const jobs = app.get(BackgroundJobs);
    const { batchId, executionIds } = await jobs.batch(
      Array.from({ length: 5 }, (_, i) => ({ job: 'child', data: i })),
    );
    await waitFor('the batch ended', async () => (await jobs.getBatch(batchId))?.state === 'succeeded');
    const get = (path: string) => request(app.getHttpServer()).get(`/jobs/${path}`).set(auth);

    const first = (await get(`batches/${batchId}/executions?page=1&size=2`).expect(200)).body;
    const last = (await get(`batches/${batchId}/executions?page=3&size=2`).expect(200)).body;
    const all = (await get(`batches/${batchId}/executions`).expect(200)).body;

    expect(first).toMatchObject({ total: 5, offset: 0, limit: 2 });
    expect(first.items.map((r: { executionId: string }) => r.executionId)).toEqual(executionIds.slice(0, 2));
    expect(last.items.map((r: { executionId: string }) => r.executionId)).toEqual(executionIds.slice(4));
    expect(all.items.map((r: { data: number; state: string }) => [r.data, r.state])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [i, 'completed']),
    );
    expect(all.items[0].steps.map((s: { name: string }) => s.name)).toEqual(['only']);
    expect((await get('batches/batch.nope/executions').expect(404)).body.message).toBe(BATCH_NOT_FOUND('batch.nope'));
    expect((await get(`batches/${batchId}/executions?state=failed`).expect(400)).body.message).toBe(
      INVALID_QUERY('state', 'failed', 'one of the parameters page, size'),
    );
    await get(`batches/${batchId}/executions?size=0`).expect(400);
  });
});
