import { CanActivate, INestApplication, Injectable } from '@nestjs/common';
import { BackgroundJobs } from 'nestjs-background-jobs';
import { BATCH_NOT_FOUND } from 'nestjs-background-jobs/operations/operations.messages';
import request from 'supertest';
import { defineJob, startHttpJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, waitFor } from '../support/redis';

@Injectable()
class OpenGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

describe('operations surface: batches and steps (HTTP)', () => {
  let prefix: string;
  const apps: INestApplication[] = [];

  beforeEach(() => {
    prefix = randomPrefix('ops-composition');
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  it('GET batches/:id shows the counts; GET executions/:id shows a child’s steps; an unknown batch is 404', async () => {
    const Child = defineJob('StepsChildJob', { id: 'steps-child' }, async (ctx) => {
      await ctx.step('fetch', () => 'rows');
      return ctx.step('store', () => 2);
    });
    const app = await startHttpJobsApp(apps, prefix, [Child], { operations: { guard: OpenGuard } });
    const jobs = app.get(BackgroundJobs);

    const { batchId, executionIds } = await jobs.batch([{ job: 'steps-child' }, { job: 'steps-child' }]);
    const batch = await waitFor(
      'the batch finished',
      async () => {
        const { body } = await request(app.getHttpServer()).get(`/jobs/batches/${batchId}`).expect(200);
        return body.state === 'running' ? null : body;
      },
      10_000,
    );
    const { body: child } = await request(app.getHttpServer()).get(`/jobs/executions/${executionIds[0]}`).expect(200);
    const { body: missing } = await request(app.getHttpServer()).get('/jobs/batches/batch.nope').expect(404);

    expect(batch).toEqual({ batchId, total: 2, completed: 2, failed: 0, cancelled: 0, pending: 0, state: 'succeeded' });
    expect(child.steps.map((s: { name: string; state: string }) => [s.name, s.state])).toEqual([
      ['fetch', 'completed'],
      ['store', 'completed'],
    ]);
    expect(typeof child.steps[0].durationMs).toBe('number');
    expect(missing.message).toBe(BATCH_NOT_FOUND('batch.nope'));
  });

  it('GET executions/:id shows a continuation’s dependencies and why it waits', async () => {
    let open: () => void = () => undefined;
    const First = defineJob('FirstJob', { id: 'first' }, () => new Promise<void>((resolve) => (open = resolve)));
    const Then = defineJob('ThenJob', { id: 'then' });
    const app = await startHttpJobsApp(apps, prefix, [First, Then], { operations: { guard: OpenGuard } });
    const jobs = app.get(BackgroundJobs);
    const first = await jobs.enqueue('first');
    const then = await jobs.enqueue('then', undefined, { after: first, onDependencyFailure: 'run' });

    const parked = await waitFor('the continuation parked', async () => {
      const { body } = await request(app.getHttpServer()).get(`/jobs/executions/${then}`).expect(200);
      // NOTE: parked (delayed); taken for a moment at each recheck of its dependencies.
      return body.waiting?.reason === 'dependencies' && body.state === 'delayed' ? body : null;
    });
    open();

    expect(parked).toMatchObject({ state: 'delayed', after: [first], onDependencyFailure: 'run' });
  });
});
