import { Injectable } from '@nestjs/common';
import { BackgroundJobs, JobEvent, OnJobEvent, TransientJobError } from 'nestjs-background-jobs';
import { STEP_NAME_REUSED, STEP_RESULT_TOO_LARGE } from 'nestjs-background-jobs/contracts/composition.messages';
import { appsPerTest, defineJob, TransportKind } from '../support/jobs-app';

const transports: TransportKind[] = ['bullmq', 'local'];

describe.each(transports)('durable steps (ctx.step) on %s', (transport) => {
  const { boot } = appsPerTest('steps');

  it('a transient retry gets the kept result of a completed step without calling it again; code outside steps runs again', async () => {
    const calls = { charge: 0, body: 0, provision: 0 };
    const Job = defineJob('OrderJob', { id: 'order', retry: { attempts: 3, backoffMs: 10 } }, async (ctx) => {
      const charge = await ctx.step('charge', () => ({ chargeId: `ch-${++calls.charge}`, at: new Date(0) }));
      calls.body += 1;
      if (ctx.attempt === 1) throw new TransientJobError('provisioning API timed out');
      const provision = await ctx.step('provision', async () => `vm-${++calls.provision}`);
      return { charge, provision };
    });
    const app = await boot({ transport, jobs: [Job] });

    const execution = await app.get(BackgroundJobs).runNow(Job);

    expect(execution).toMatchObject({
      state: 'completed',
      attempts: 2,
      // NOTE: a step's result travels as JSON, on its first run as on a reuse: the Date arrives as its ISO string.
      result: { charge: { chargeId: 'ch-1', at: '1970-01-01T00:00:00.000Z' }, provision: 'vm-1' },
    });
    expect(calls).toEqual({ charge: 1, body: 2, provision: 1 });
    expect(execution.steps?.map((s) => [s.name, s.state])).toEqual([
      ['charge', 'completed'],
      ['provision', 'completed'],
    ]);
    for (const step of execution.steps ?? []) {
      expect(step.durationMs).toBe(step.finishedAt.getTime() - step.startedAt.getTime());
    }
  });

  it('a step that throws is recorded failed and runs again on the retry', async () => {
    let calls = 0;
    const Job = defineJob('FlakyStepJob', { id: 'flaky-step', retry: { attempts: 2, backoffMs: 10 } }, (ctx) =>
      ctx.step('fetch', () => {
        calls += 1;
        if (calls === 1) throw new TransientJobError('503 from the API');
        return 'fetched';
      }),
    );
    const app = await boot({ transport, jobs: [Job] });
    const jobs = app.get(BackgroundJobs);

    const execution = await jobs.runNow(Job);

    expect(execution).toMatchObject({ state: 'completed', attempts: 2, result: 'fetched' });
    expect(calls).toBe(2);
    expect(execution.steps).toEqual([expect.objectContaining({ name: 'fetch', state: 'completed' })]);
  });

  it('a step name used twice in one run fails the run at once, naming the step', async () => {
    let second = 0;
    const Job = defineJob('TwiceJob', { id: 'twice', retry: { attempts: 3, backoffMs: 10 } }, async (ctx) => {
      await ctx.step('send', () => 'first');
      await ctx.step('send', () => ++second);
    });
    const app = await boot({ transport, jobs: [Job] });

    const execution = await app.get(BackgroundJobs).runNow(Job);

    expect(execution).toMatchObject({
      state: 'failed',
      attempts: 1,
      failure: { kind: 'permanent', message: STEP_NAME_REUSED('twice', execution.executionId, 'send') },
    });
    expect(second).toBe(0);
  });

  it('a step result over maxPayloadBytes fails the run at once with the size and the limit', async () => {
    const Job = defineJob('BigStepJob', { id: 'big-step', retry: { attempts: 3, backoffMs: 10 } }, (ctx) =>
      ctx.step('export', () => 'x'.repeat(2_000)),
    );
    const app = await boot({ transport, jobs: [Job], maxPayloadBytes: 1_024 });

    const execution = await app.get(BackgroundJobs).runNow(Job);

    expect(execution).toMatchObject({
      state: 'failed',
      attempts: 1,
      failure: {
        kind: 'permanent',
        message: STEP_RESULT_TOO_LARGE('big-step', 'export', 'it is 2002 bytes, over the limit of 1024 bytes'),
      },
    });
  });

  it('@OnJobEvent("step") hears each step completed, failed or reused; handlers without names do not', async () => {
    const named: string[] = [];
    const unnamed: string[] = [];
    @Injectable()
    class StepWatcher {
      @OnJobEvent('step')
      onStep(event: JobEvent<'step'>) {
        named.push(`${event.attempt}:${event.step}:${event.state}`);
      }
      @OnJobEvent()
      onAny(event: JobEvent) {
        unnamed.push(event.name);
      }
    }
    const Job = defineJob('WatchedJob', { id: 'watched', retry: { attempts: 2, backoffMs: 10 } }, async (ctx) => {
      await ctx.step('a', () => 1);
      await ctx.step('b', () => {
        if (ctx.attempt === 1) throw new TransientJobError('not yet');
        return 2;
      });
    });
    const app = await boot({ transport, jobs: [Job], providers: [StepWatcher] });

    await app.get(BackgroundJobs).runNow(Job);

    expect(named).toEqual(['1:a:completed', '1:b:failed', '2:a:reused', '2:b:completed']);
    expect(unnamed).not.toContain('step');
  });
});
