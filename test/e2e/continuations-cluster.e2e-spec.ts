import { BackgroundJobs, JobDependency, JobExecution, PermanentJobError } from 'nestjs-background-jobs';
import { DEPENDENCY_FAILED } from 'nestjs-background-jobs/contracts/composition.messages';
import { defineJob } from '../support/jobs-app';
import { waitFor } from '../support/redis';
import { onSharedCluster } from '../support/cluster-suite';

/**
 * Continuations on a Redis Cluster: the dependency keys carry the framework's hash tag, so each script touches one
 * slot, while the dependency and the continuation live on queues in other slots.
 */
describe('continuations on a Redis Cluster', () => {
  const cluster = onSharedCluster('after-cluster');

  const jobsOf = () => {
    const seen: { id: string; dependencies?: ReadonlyArray<JobDependency> }[] = [];
    const Report = defineJob('ClusterReportJob', { id: 'report', queue: 'after-a' }, (ctx) => {
      const { name, fail } = ctx.data as { name: string; fail?: boolean };
      if (fail) throw new PermanentJobError(`${name} cannot be built`);
      return { rows: name.length };
    });
    const Notify = defineJob('ClusterNotifyJob', { id: 'notify', queue: 'after-b' }, (ctx) => {
      seen.push({ id: ctx.executionId, dependencies: ctx.dependencies });
      return 'notified';
    });
    return { seen, jobs: [Report, Notify] };
  };

  const final = (jobs: BackgroundJobs, id: string, what: string) =>
    waitFor(
      what,
      async () => {
        const execution = await jobs.getExecution(id);
        return execution && ['completed', 'failed', 'cancelled'].includes(execution.state) ? execution : null;
      },
      20_000,
    ) as Promise<JobExecution>;

  it('a continuation on another queue runs after its dependency, on either of two instances, and sees its result', async () => {
    const { seen, jobs: defs } = jobsOf();
    for (let i = 0; i < 2; i++) await cluster.start({ jobs: defs });
    const jobs = cluster.apps[0].get(BackgroundJobs);
    // NOTE: the dependency is delayed so the continuation is registered (and parked) before it ends.
    const a = await jobs.enqueue('report', { name: 'alpha' }, { delayMs: 500 });
    const notify = await jobs.enqueue('notify', undefined, { after: a });

    const done = await final(jobs, notify, 'the continuation ended');
    const dependency = await jobs.getExecution(a);

    expect(done).toMatchObject({ state: 'completed', result: 'notified', after: [a] });
    expect(done.startedAt!.getTime()).toBeGreaterThanOrEqual(dependency!.finishedAt!.getTime());
    expect(seen).toEqual([
      { id: notify, dependencies: [{ executionId: a, jobId: 'report', state: 'completed', result: { rows: 5 } }] },
    ]);
  }, 60_000);

  it('a permanently failed dependency cancels the continuation, naming it; it never runs', async () => {
    const { seen, jobs: defs } = jobsOf();
    for (let i = 0; i < 2; i++) await cluster.start({ jobs: defs });
    const jobs = cluster.apps[0].get(BackgroundJobs);
    const a = await jobs.enqueue('report', { name: 'broken', fail: true }, { delayMs: 500 });
    const notify = await jobs.enqueue('notify', undefined, { after: a });

    const done = await final(jobs, notify, 'the continuation ended');

    expect(done.state).toBe('cancelled');
    expect(done.failure).toMatchObject({
      kind: 'cancelled',
      message: DEPENDENCY_FAILED('notify', a, 'report', 'failed', 'broken cannot be built'),
    });
    expect(seen).toEqual([]);
  }, 60_000);
});
