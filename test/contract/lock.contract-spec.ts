import { LOCK_BUSY } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { defineJob } from '../support/jobs-app';
import { waitFor } from '../support/redis';
import { describeContract } from './support/contract';

describeContract('the job-level lock', (c) => {
  const { boot } = c;

  it('the job-level lock: two concurrent runs, one executes and one is skipped; ctx.lease carries a fencing token', async () => {
    let active = 0;
    let maxActive = 0;
    const fences: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const Job = defineJob('LockedJob', { id: 'locked', lock: { ttlMs: 3_000 } }, async (ctx) => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      fences.push(ctx.lease!.fencingToken);
      await gate;
      active -= 1;
    });
    const jobs = await boot({ jobs: [Job] });

    const runs = Promise.all([jobs.runNow(Job), jobs.runNow(Job)]);
    const skipped = await waitFor('one run to be skipped', async () => {
      const page = await jobs.listExecutions({ states: ['skipped'] });
      return page.items.length === 1 ? page.items[0] : null;
    });
    release();
    const states = (await runs).map((e) => e.state).sort();

    expect(states).toEqual(['completed', 'skipped']);
    expect(skipped!.skipReason).toBe(LOCK_BUSY('locked'));
    expect(maxActive).toBe(1);
    expect(fences).toHaveLength(1);
    const after = await jobs.runNow(Job);
    expect(after.state).toBe('completed');
    expect(fences[1]).toBeGreaterThan(fences[0]);
  });
});
