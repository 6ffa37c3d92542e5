import { TestingModule } from '@nestjs/testing';
import { BackgroundJobs } from 'nestjs-background-jobs';
import { defineJob, startJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, waitFor } from '../support/redis';
import { TestRedisServer } from '../support/redis-server';

describe('graceful shutdown', () => {
  let prefix: string;
  const apps: TestingModule[] = [];

  beforeEach(() => {
    prefix = randomPrefix('shutdown');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  const boot = async (...args: Parameters<typeof startJobsApp>) => {
    const app = await startJobsApp(...args);
    apps.push(app);
    return app;
  };

  it('shutdown during a 2 s job with a 5 s grace: the job completes, once', async () => {
    const completions: string[] = [];
    let started = 0;
    const Job = defineJob('ReportJob', { id: 'report' }, async (ctx) => {
      started = Date.now();
      await new Promise((r) => setTimeout(r, 2_000));
      completions.push(ctx.executionId);
      return 'done';
    });
    const worker = await startJobsApp({ prefix, jobs: [Job], worker: { shutdownGraceMs: 5_000 } });
    const observer = await boot({ prefix, jobs: [Job], worker: false });
    const id = await observer.get(BackgroundJobs).enqueue(Job);
    await waitFor('the job to start', () => started);

    await worker.close();

    // close() waited for the 2 s body (timed from the body's own start, not from when the test saw it).
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000 - 10);
    expect(completions).toEqual([id]);
    expect(await observer.get(BackgroundJobs).getExecution(id)).toMatchObject({
      state: 'completed',
      result: 'done',
      attempts: 1,
    });
  });

  it('shutdown with a 200 ms grace during a 10 s job: aborted there, completed exactly once by another instance', async () => {
    const events: string[] = [];
    const makeJob = (instance: string) =>
      defineJob('LongJob', { id: 'long' }, async (ctx) => {
        events.push(`${instance}:start`);
        const aborted = new Promise<'aborted'>((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve('aborted'), { once: true }),
        );
        const finished = new Promise<'finished'>((resolve) => setTimeout(() => resolve('finished'), 10_000).unref());
        const how = await Promise.race([aborted, finished]);
        events.push(
          `${instance}:${how}${how === 'aborted' ? `(${(ctx.signal.reason as { kind: string }).kind})` : ''}`,
        );
        return instance;
      });
    const first = await startJobsApp({ prefix, jobs: [makeJob('A')], worker: { shutdownGraceMs: 200 } });
    const id = await first.get(BackgroundJobs).enqueue('long');
    await waitFor('A to start it', () => events.includes('A:start'));

    const closing = Date.now();
    await first.close();
    // NOTE: a close that waited for the body would take its 10 s; half of it leaves a loaded host seconds to close.
    expect(Date.now() - closing).toBeLessThan(10_000 / 2);
    expect(events).toEqual(['A:start', 'A:aborted(shutdown)']);

    const second = await boot({ prefix, jobs: [makeJob('B')] });
    const execution = await waitFor(
      'B to complete it',
      async () => {
        const e = await second.get(BackgroundJobs).getExecution(id);
        return e?.state === 'completed' ? e : null;
      },
      15_000,
      100,
    );

    expect(execution).toMatchObject({ result: 'B' });
    expect(events).toEqual(['A:start', 'A:aborted(shutdown)', 'B:start', 'B:finished']);
  }, 30_000);

  it('close() with Redis stopped returns within grace + 2 s', async () => {
    const redis = await TestRedisServer.create();
    let started = false;
    const Job = defineJob('StuckJob', { id: 'stuck' }, async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 20_000).unref());
    });
    try {
      const { Test } = await import('@nestjs/testing');
      const { BackgroundJobsModule } = await import('nestjs-background-jobs');
      const app = await Test.createTestingModule({
        imports: [
          BackgroundJobsModule.forRoot({
            transport: { type: 'bullmq', connection: { url: redis.url }, prefix },
            worker: { shutdownGraceMs: 500 },
          }),
        ],
        providers: [Job],
      }).compile();
      app.useLogger(false);
      await app.init();
      await app.get(BackgroundJobs).enqueue(Job);
      await waitFor('the job to start', () => started);
      await redis.stop();

      const closing = Date.now();
      await app.close();

      expect(Date.now() - closing).toBeLessThan(500 + 2_000);
    } finally {
      await redis.stop();
    }
  });
});
