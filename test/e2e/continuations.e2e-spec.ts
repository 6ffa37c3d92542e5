import { Injectable } from '@nestjs/common';
import {
  BackgroundJobs,
  InvalidJobInputError,
  JobEvent,
  OnJobEvent,
  JobDependency,
  JobExecution,
  PermanentJobError,
} from 'nestjs-background-jobs';
import { DEPENDENCY_FAILED, UNKNOWN_DEPENDENCY } from 'nestjs-background-jobs/contracts/composition.messages';
import { appsPerTest, defineJob, TransportKind } from '../support/jobs-app';
import { waitFor } from '../support/redis';

const transports: TransportKind[] = ['bullmq', 'local'];

describe.each(transports)('continuations (enqueue … { after }) on %s', (transport) => {
  const { boot } = appsPerTest('after');

  const jobsOf = () => {
    const gates = new Map<string, () => void>();
    const seen: { id: string; dependencies?: ReadonlyArray<JobDependency> }[] = [];
    const Report = defineJob('ReportJob', { id: 'report' }, async (ctx) => {
      const { name, fail } = ctx.data as { name: string; fail?: boolean };
      await new Promise<void>((resolve) => gates.set(name, resolve));
      if (fail) throw new PermanentJobError(`${name} cannot be built`);
      return { rows: name.length };
    });
    const Notify = defineJob('NotifyJob', { id: 'notify' }, (ctx) => {
      seen.push({ id: ctx.executionId, dependencies: ctx.dependencies });
      return 'notified';
    });
    const open = (name: string) => waitFor(`${name} running`, () => gates.get(name)).then((resolve) => resolve?.());
    return { jobs: [Report, Notify], seen, open };
  };

  const final = (jobs: BackgroundJobs, id: string, what: string) =>
    waitFor(
      what,
      async () => {
        const execution = await jobs.getExecution(id);
        return execution && ['completed', 'failed', 'cancelled', 'skipped'].includes(execution.state)
          ? execution
          : null;
      },
      15_000,
    ) as Promise<JobExecution>;

  it('waits parked for every dependency, then runs once and sees their states and results', async () => {
    const { jobs: defs, seen, open } = jobsOf();
    const app = await boot({ transport, jobs: defs, worker: { concurrency: 3 } });
    const jobs = app.get(BackgroundJobs);
    const a = await jobs.enqueue('report', { name: 'alpha' });
    const b = await jobs.enqueue('report', { name: 'be' });

    const notify = await jobs.enqueue('notify', undefined, { after: [a, b] });
    const parked = await waitFor('the continuation parked', async () => {
      const execution = await jobs.getExecution(notify);
      return execution?.waiting?.reason === 'dependencies' ? execution : null;
    });
    expect(parked?.state).toBe('delayed');
    await open('alpha');
    await final(jobs, a, 'the first dependency completed');
    // NOTE: one of two ended: the continuation still waits (parked; or, for a moment, taken for its recheck).
    expect(['delayed', 'pending', 'running']).toContain((await jobs.getExecution(notify))?.state);
    expect(seen).toEqual([]);
    await open('be');
    const done = await final(jobs, notify, 'the continuation ended');

    expect(done).toMatchObject({ state: 'completed', result: 'notified', attempts: 1 });
    expect(seen).toEqual([
      {
        id: notify,
        dependencies: [
          { executionId: a, jobId: 'report', state: 'completed', result: { rows: 5 } },
          { executionId: b, jobId: 'report', state: 'completed', result: { rows: 2 } },
        ],
      },
    ]);
  });

  it('a permanently failed dependency cancels the continuation, which names it and why; it never runs', async () => {
    const { jobs: defs, seen, open } = jobsOf();
    const cancelled: string[] = [];
    @Injectable()
    class CancelWatcher {
      @OnJobEvent('cancelled')
      onCancelled(event: JobEvent<'cancelled'>) {
        cancelled.push(`${event.jobId}:${event.failure.message}`);
      }
    }
    const app = await boot({ transport, jobs: defs, worker: { concurrency: 2 }, providers: [CancelWatcher] });
    const jobs = app.get(BackgroundJobs);
    const a = await jobs.enqueue('report', { name: 'broken', fail: true });
    const notify = await jobs.enqueue('notify', undefined, { after: a });

    await open('broken');
    const done = await final(jobs, notify, 'the continuation ended');

    expect(done.state).toBe('cancelled');
    expect(done.failure).toMatchObject({
      kind: 'cancelled',
      message: DEPENDENCY_FAILED('notify', a, 'report', 'failed', 'broken cannot be built'),
    });
    expect(seen).toEqual([]);
    // NOTE: an outcome like any other: @OnJobEvent hears the cancel, with the same message.
    expect(cancelled).toEqual([`notify:${done.failure?.message}`]);
  });

  it("onDependencyFailure: 'run' runs it anyway and shows the failed dependency", async () => {
    const { jobs: defs, seen, open } = jobsOf();
    const app = await boot({ transport, jobs: defs, worker: { concurrency: 2 } });
    const jobs = app.get(BackgroundJobs);
    const a = await jobs.enqueue('report', { name: 'broken', fail: true });
    const notify = await jobs.enqueue('notify', undefined, { after: a, onDependencyFailure: 'run' });

    await open('broken');
    const done = await final(jobs, notify, 'the continuation ended');

    expect(done.state).toBe('completed');
    expect(seen).toEqual([{ id: notify, dependencies: [{ executionId: a, jobId: 'report', state: 'failed' }] }]);
  });

  it('a dependency already ended at enqueue counts at once', async () => {
    const { jobs: defs, seen, open } = jobsOf();
    const app = await boot({ transport, jobs: defs });
    const jobs = app.get(BackgroundJobs);
    const a = await jobs.enqueue('report', { name: 'done' });
    await open('done');
    await final(jobs, a, 'the dependency completed');

    const notify = await jobs.enqueue('notify', undefined, { after: [a] });

    expect(await final(jobs, notify, 'the continuation ended')).toMatchObject({ state: 'completed' });
    expect(seen[0].dependencies).toEqual([
      { executionId: a, jobId: 'report', state: 'completed', result: { rows: 4 } },
    ]);
  });

  it('after naming an unknown execution is an error at call time, and nothing is enqueued', async () => {
    const { jobs: defs } = jobsOf();
    const app = await boot({ transport, jobs: defs });
    const jobs = app.get(BackgroundJobs);

    const call = jobs.enqueue('notify', undefined, { after: ['no-such-run'] });

    await expect(call).rejects.toThrow(InvalidJobInputError);
    await expect(call).rejects.toThrow(UNKNOWN_DEPENDENCY('notify', 'no-such-run'));
    expect((await jobs.listExecutions({ jobId: 'notify' })).total).toBe(0);
  });
});
