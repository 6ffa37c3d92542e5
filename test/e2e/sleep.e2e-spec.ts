import { BackgroundJobs, JobExecution } from 'nestjs-background-jobs';
import { INVALID_SLEEP } from 'nestjs-background-jobs/contracts/composition.messages';
import { appsPerTest, defineJob, TransportKind } from '../support/jobs-app';
import { waitFor } from '../support/redis';

const transports: TransportKind[] = ['bullmq', 'local'];

/** The sleep under test. */
const SLEEP_MS = 1_500;
// NOTE: how late a woken run may start: a delayed job's promotion and the worker's next take (BullMQ polls its
// delayed set on its own timer), on a loaded 2-core machine.
const WAKE_MARGIN_MS = 3_000;

describe.each(transports)('ctx.sleep on %s', (transport) => {
  const { boot } = appsPerTest('sleep');

  const executionIn = (
    jobs: BackgroundJobs,
    id: string,
    what: string,
    test: (e: JobExecution) => boolean,
  ): Promise<JobExecution> =>
    waitFor(
      what,
      async () => {
        const execution = await jobs.getExecution(id);
        return execution && test(execution) ? execution : null;
      },
      SLEEP_MS + WAKE_MARGIN_MS + 10_000,
    ) as Promise<JobExecution>;

  it('a 1.5 s sleep with concurrency 1 lets another run through meanwhile, resumes after ≥ 1.5 s, repeats no step', async () => {
    const calls = { charge: 0, body: 0, email: 0 };
    const times: { sleepCalled?: number; woke?: number; quickRan?: number; quickQueued?: number } = {};
    const Sleepy = defineJob('ReminderJob', { id: 'reminder' }, async (ctx) => {
      const charge = await ctx.step('charge', () => `ch-${++calls.charge}`);
      calls.body += 1;
      times.sleepCalled ??= Date.now();
      await ctx.sleep(SLEEP_MS);
      times.woke = Date.now();
      const email = await ctx.step('email', () => `mail-${++calls.email}`);
      return { charge, email };
    });
    const Quick = defineJob('QuickJob', { id: 'quick' }, () => {
      times.quickRan = Date.now();
      return 'done';
    });
    const app = await boot({ transport, jobs: [Sleepy, Quick], worker: { concurrency: 1 } });
    const jobs = app.get(BackgroundJobs);

    const sleepyId = await jobs.enqueue(Sleepy, {});
    const asleep = await executionIn(jobs, sleepyId, 'the run sleeping', (e) => e.waiting?.reason === 'sleep');
    const quickId = await jobs.enqueue(Quick, {});
    times.quickQueued = Date.now();
    const quick = await executionIn(jobs, quickId, 'the other run completed', (e) => e.state === 'completed');
    const done = await executionIn(jobs, sleepyId, 'the sleeper completed', (e) => e.state === 'completed');

    const sleepCalled = times.sleepCalled as number;
    expect(asleep.waiting?.until?.getTime()).toBeGreaterThanOrEqual(sleepCalled + SLEEP_MS);
    // NOTE: the only worker slot was free while the run slept: the other run ran before the sleeper woke.
    expect(quick.result).toBe('done');
    // Only judged when the other run was queued well inside the sleep (the poll that saw the sleeper parked and the
    // enqueue can take most of it on a busy host); a sleep that held the slot would run it after the wake whatever.
    if (times.quickQueued! < sleepCalled + SLEEP_MS - 500) expect(times.quickRan).toBeLessThan(times.woke as number);
    expect(times.woke! - sleepCalled).toBeGreaterThanOrEqual(SLEEP_MS);
    expect(times.woke! - sleepCalled).toBeLessThan(SLEEP_MS + WAKE_MARGIN_MS);
    expect(done.result).toEqual({ charge: 'ch-1', email: 'mail-1' });
    // NOTE: the body ran twice (code outside steps runs again on resume), each step once; the sleep used no attempt.
    expect(calls).toEqual({ charge: 1, body: 2, email: 1 });
    expect(done.attempts).toBe(1);
    expect(done.waiting).toBeUndefined();
    expect(done.steps?.map((s) => s.name)).toEqual(['charge', '@sleep:1', 'email']);
    process.stdout.write(
      `[sleep/${transport}] slept ${times.woke! - sleepCalled} ms (asked ${SLEEP_MS}); the other run ran ` +
        `${times.quickRan! - sleepCalled} ms into the sleep\n`,
    );
  });

  it('sleepUntil a passed date returns at once; a sleeping run shows waiting { reason: sleep, until }', async () => {
    const wakeAt = new Date(Date.now() + 60_000);
    const Job = defineJob('UntilJob', { id: 'until' }, async (ctx) => {
      await ctx.sleepUntil(new Date(0));
      await ctx.sleepUntil(wakeAt);
    });
    const app = await boot({ transport, jobs: [Job] });
    const jobs = app.get(BackgroundJobs);

    const id = await jobs.enqueue(Job, {});
    const asleep = await executionIn(jobs, id, 'the run sleeping', (e) => e.waiting?.reason === 'sleep');

    expect(asleep.state).toBe('delayed');
    expect(asleep.waiting).toEqual({ reason: 'sleep', until: wakeAt });
    expect(await jobs.cancel(id)).toBe(true);
  });

  it('a batch child that sleeps is not counted as ended while asleep; the batch completes after it wakes', async () => {
    const Child = defineJob('NapChild', { id: 'nap-child' }, async (ctx) => {
      if ((ctx.data as { nap: boolean }).nap) await ctx.sleep(SLEEP_MS);
      return 'ok';
    });
    const Done = defineJob('NapDone', { id: 'nap-done' });
    const app = await boot({ transport, jobs: [Child, Done] });
    const jobs = app.get(BackgroundJobs);

    const { batchId, executionIds } = await jobs.batch(
      [
        { job: 'nap-child', data: { nap: true } },
        { job: 'nap-child', data: { nap: false } },
      ],
      { onComplete: { job: 'nap-done' } },
    );
    await executionIn(jobs, executionIds[1], 'the other child completed', (e) => e.state === 'completed');
    await executionIn(jobs, executionIds[0], 'the child sleeping', (e) => e.waiting?.reason === 'sleep');

    expect(await jobs.getBatch(batchId)).toMatchObject({ completed: 1, pending: 1, state: 'running' });
    expect(await jobs.getExecution(`${batchId}.complete`)).toBeNull();
    await executionIn(jobs, `${batchId}.complete`, 'the callback completed', (e) => e.state === 'completed');
    expect(await jobs.getBatch(batchId)).toMatchObject({ completed: 2, pending: 0, state: 'succeeded' });
  });

  it.each([
    ['sleep', -1],
    ['sleep', Number.NaN],
    ['sleep', '100'],
    ['sleepUntil', new Date('not a date')],
    ['sleepUntil', 1_700_000_000_000],
  ] as const)('ctx.%s(%p) fails the run at once, naming the job and the value', async (call, value) => {
    const Job = defineJob('BadSleepJob', { id: 'bad-sleep', retry: { attempts: 3, backoffMs: 10 } }, (ctx) =>
      call === 'sleep' ? ctx.sleep(value as number) : ctx.sleepUntil(value as Date),
    );
    const app = await boot({ transport, jobs: [Job] });

    const execution = await app.get(BackgroundJobs).runNow(Job);

    expect(execution).toMatchObject({
      state: 'failed',
      attempts: 1,
      failure: { kind: 'permanent', message: INVALID_SLEEP('bad-sleep', call, value) },
    });
  });
});
