import { BackgroundJobs, InvalidJobInputError, JobContext } from 'nestjs-background-jobs';
import { INVALID_ENQUEUE_OPTION } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { appsPerTest, defineJob, TransportKind } from '../support/jobs-app';
import { waitFor } from '../support/redis';

/** A promise the test resolves to let the blocking run end. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe.each<TransportKind>(['local', 'bullmq'])('enqueue priority on the %s transport', (transport) => {
  const { boot } = appsPerTest(`priority-${transport}`);

  /**
   * One worker slot, held by a first run until every other run is queued, so the order they start in is the order
   * the transport gives them, not the order they were enqueued in.
   */
  const start = async (options: { fairness?: 'tenant' }) => {
    const order: string[] = [];
    const blocking = gate();
    const Job = defineJob(
      `Priority${options.fairness ? 'Fair' : 'Plain'}Job`,
      { id: 'prioritized', ...options, retry: { attempts: 1 } },
      async (ctx: JobContext<{ name: string }>) => {
        order.push(ctx.data.name);
        if (ctx.data.name === 'blocker') await blocking.wait;
      },
    );
    const app = await boot({ transport, jobs: [Job], worker: { concurrency: 1 } });
    const jobs = app.get(BackgroundJobs);
    await jobs.enqueue('prioritized', { name: 'blocker' }, { tenantId: 'other' });
    await waitFor('the blocking run to start', () => order.length === 1);
    return { jobs, order, release: blocking.open };
  };

  it("a fair job: a tenant's priority-0 runs go before its priority-3 ones, and tenants still take turns within each tier", async () => {
    const { jobs, order, release } = await start({ fairness: 'tenant' });
    for (const tenantId of ['acme', 'globex']) {
      for (const n of [1, 2, 3])
        await jobs.enqueue('prioritized', { name: `${tenantId}-low-${n}` }, { tenantId, priority: 3 });
      for (const n of [1, 2])
        await jobs.enqueue('prioritized', { name: `${tenantId}-high-${n}` }, { tenantId, priority: 0 });
    }
    release();
    await waitFor('all runs', () => order.length === 11);
    process.stdout.write(`[priority ${transport}] fair: ${order.slice(1).join(', ')}\n`);
    expect(order.slice(1)).toEqual([
      'acme-high-1',
      'globex-high-1',
      'acme-high-2',
      'globex-high-2',
      'acme-low-1',
      'globex-low-1',
      'acme-low-2',
      'globex-low-2',
      'acme-low-3',
      'globex-low-3',
    ]);
  });

  it('a plain job: lower priority first, enqueue order within a tier', async () => {
    const { jobs, order, release } = await start({});
    for (const [name, priority] of [
      ['p5-a', 5],
      ['p2', 2],
      ['p5-b', 5],
      ['default', undefined],
      ['p7', 7],
    ] as const) {
      await jobs.enqueue('prioritized', { name }, priority === undefined ? {} : { priority });
    }
    release();
    await waitFor('all runs', () => order.length === 6);
    expect(order.slice(1)).toEqual(['default', 'p2', 'p5-a', 'p5-b', 'p7']);
  });

  it('a priority outside 0..7 or not an integer fails the call naming the job and the value; nothing is enqueued', async () => {
    const Job = defineJob('PriorityInputJob', { id: 'priority-input' });
    const app = await boot({ transport, jobs: [Job], worker: false });
    const jobs = app.get(BackgroundJobs);
    for (const priority of [-1, 8, 1.5, '1']) {
      const call = jobs.enqueue('priority-input', undefined, { priority: priority as number });
      await expect(call).rejects.toThrow(InvalidJobInputError);
      await expect(call).rejects.toThrow(
        INVALID_ENQUEUE_OPTION('priority-input', 'priority', priority, 'an integer from 0 (first) to 7'),
      );
    }
    expect((await jobs.listExecutions({ jobId: 'priority-input' })).total).toBe(0);
  });
});
