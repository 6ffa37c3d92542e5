import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { BackgroundJobs } from 'nestjs-background-jobs';
import { defineJob, startJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, testRedisUrl } from '../support/redis';

describe('OpenTelemetry: trace context from the enqueuing caller into the run', () => {
  let prefix: string;
  let app: TestingModule | undefined;
  let queue: Queue | undefined;

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });

  afterAll(() => {
    context.disable();
    propagation.disable();
  });

  beforeEach(() => {
    prefix = randomPrefix('otel');
  });

  afterEach(async () => {
    await app?.close();
    await queue?.close();
    app = undefined;
    queue = undefined;
    await deletePrefix(prefix);
  });

  it('a run enqueued inside a trace runs inside the same trace; one enqueued outside carries none', async () => {
    const seen: Array<string | undefined> = [];
    const Traced = defineJob('TracedJob', { id: 'traced' }, () => {
      seen.push(trace.getSpanContext(context.active())?.traceId);
    });
    app = await startJobsApp({ prefix, jobs: [Traced] });
    const jobs = app.get(BackgroundJobs);
    const parent = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
    };

    const inside = await context.with(trace.setSpanContext(ROOT_CONTEXT, parent), () => jobs.runNow(Traced));
    const outside = await jobs.runNow(Traced);

    expect(seen).toEqual([parent.traceId, undefined]);
    queue = new Queue('background-jobs', { connection: { url: testRedisUrl() }, prefix });
    expect((await queue.getJob(inside.executionId))?.data.trace).toEqual({
      traceparent: `00-${parent.traceId}-${parent.spanId}-01`,
    });
    expect((await queue.getJob(outside.executionId))?.data.trace).toBeUndefined();
  });
});
