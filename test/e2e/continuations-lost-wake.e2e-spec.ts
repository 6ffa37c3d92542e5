import { TestingModule } from '@nestjs/testing';
import IORedis from 'ioredis';
import { BackgroundJobs, JobExecution } from 'nestjs-background-jobs';
import { DependencyStore } from 'nestjs-background-jobs/core';
import { RECHECK_MIN_MS } from 'nestjs-background-jobs/core/pipeline/dependencies.stage';
import { appsPerTest, defineJob, TransportKind } from '../support/jobs-app';
import { testRedisUrl, waitFor } from '../support/redis';

const transports: TransportKind[] = ['bullmq', 'local'];

// NOTE: what a loaded 2-core machine adds to the recheck itself: the delayed job promoted, taken, its dependency read.
const MARGIN_MS = 5_000;

/**
 * A continuation whose wake is lost still runs: the last dependency's end never reaches the dependency store (on
 * BullMQ its key of dependents is deleted, as if the instance that recorded the end died before telling the store;
 * on the embedded transport the transport's one `ended` call is dropped), and the continuation, parked, is taken
 * again at its recheck time and finds the dependency ended by its record.
 */
describe.each(transports)('a lost continuation wake heals on %s', (transport) => {
  const { boot, prefix } = appsPerTest('lost-wake');

  it('the dependency ends without waking its continuation: the continuation runs at its next recheck, sees the result', async () => {
    let open: (() => void) | undefined;
    const seen: unknown[] = [];
    const Report = defineJob('GatedReportJob', { id: 'report' }, async () => {
      await new Promise<void>((resolve) => (open = resolve));
      return { rows: 3 };
    });
    const Notify = defineJob('NotifyJob', { id: 'notify' }, (ctx) => {
      seen.push(ctx.dependencies);
    });
    const app: TestingModule = await boot({ transport, jobs: [Report, Notify], worker: { concurrency: 2 } });
    const jobs = app.get(BackgroundJobs);
    const a = await jobs.enqueue('report');
    const notify = await jobs.enqueue('notify', undefined, { after: a });
    await waitFor('the continuation parked', async () =>
      (await jobs.getExecution(notify))?.waiting?.reason === 'dependencies' ? true : null,
    );

    await loseTheWake(app, a);
    await waitFor('the dependency running', () => open);
    open?.();
    const dependency = await final(jobs, a);
    const done = await final(jobs, notify);

    expect(done.state).toBe('completed');
    expect(seen).toEqual([[{ executionId: a, jobId: 'report', state: 'completed', result: { rows: 3 } }]]);
    // The recheck time set at the last parking before the end: a tenth of the dependency's age then, at least 1 s.
    const recheck = Math.max(RECHECK_MIN_MS, (dependency.finishedAt!.getTime() - dependency.createdAt.getTime()) / 10);
    const late = done.startedAt!.getTime() - dependency.finishedAt!.getTime();
    expect(late).toBeLessThan(recheck + MARGIN_MS);
    process.stdout.write(`[lost-wake/${transport}] continuation started ${late} ms after its dependency ended\n`);
    if (transport === 'bullmq') {
      // NOTE: nothing is left of the wait in Redis: the run that went on made the store forget it.
      const redis = new IORedis(testRedisUrl());
      try {
        expect(await redis.exists(`${prefix()}:bgj:deps:on:${notify}`)).toBe(0);
        expect(await redis.hexists(`${prefix()}:bgj:deps:queue`, notify)).toBe(0);
      } finally {
        redis.disconnect();
      }
    }
  });

  /** Makes the dependency's end reach no dependent. */
  async function loseTheWake(app: TestingModule, dependencyId: string): Promise<void> {
    if (transport === 'bullmq') {
      const redis = new IORedis(testRedisUrl());
      try {
        expect(await redis.del(`${prefix()}:bgj:deps:of:${dependencyId}`)).toBe(1);
      } finally {
        redis.disconnect();
      }
      return;
    }
    const store = app.get(DependencyStore);
    const ended = store.ended.bind(store);
    let dropped = false;
    store.ended = async (executionId: string) => {
      if (executionId === dependencyId && !dropped) {
        dropped = true;
        return;
      }
      return ended(executionId);
    };
  }
});

const final = (jobs: BackgroundJobs, id: string) =>
  waitFor(
    `${id} ended`,
    async () => {
      const execution = await jobs.getExecution(id);
      return execution && ['completed', 'failed', 'cancelled'].includes(execution.state) ? execution : null;
    },
    20_000,
  ) as Promise<JobExecution>;
