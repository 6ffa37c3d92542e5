import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { Test, TestingModule } from '@nestjs/testing';
import { BackgroundJob, BackgroundJobs, PipelineJob } from 'nestjs-background-jobs';
import { AppModule, smokeTransport } from '../src/app.module.js';

@PipelineJob({ id: 'smoke-traced' })
class TracedJob implements BackgroundJob<void, string | null> {
  execute(): string | null {
    return trace.getSpanContext(context.active())?.traceId ?? null;
  }
}

// The library finds the optional @opentelemetry/api from an ESM app too: a run enqueued inside a trace joins it.
describe('nestjs-background-jobs in a NestJS 12 ESM app: OpenTelemetry', () => {
  let moduleRef: TestingModule;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    moduleRef = await Test.createTestingModule({
      imports: [AppModule.forTransport(smokeTransport('bullmq'))],
      providers: [TracedJob],
    }).compile();
    await moduleRef.init();
  });

  afterAll(async () => {
    await moduleRef.close();
    context.disable();
    propagation.disable();
  });

  it('a run enqueued inside a trace runs inside the same trace; one enqueued outside carries none', async () => {
    const jobs = moduleRef.get(BackgroundJobs);
    const parent = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
    };
    const inside = await context.with(trace.setSpanContext(ROOT_CONTEXT, parent), () => jobs.runNow(TracedJob));
    const outside = await jobs.runNow(TracedJob);
    expect([inside.result, outside.result]).toEqual([parent.traceId, null]);
  });
});
