/**
 * A batch's callback, on the users' path: one app (the module's worker at c = 50) calls
 * `jobs.batch(10,000 no-op children, { onComplete })`; the same 10,000 runs enqueued without a batch
 * (`BackgroundJobs.enqueue`, 500 calls in flight) are the other side, in alternating pairs.
 * Batch: from `jobs.batch` resolving (and from the call) to the `onComplete` callback's `execute` entered.
 * Without: from the last `enqueue` resolving (and from the first call) to the last run's public `completed` event
 * (`@OnJobEvent('completed')`, told right before the worker records the outcome).
 */
import { Injectable } from '@nestjs/common';
import { BackgroundJobs, JobEvent, OnJobEvent } from 'nestjs-background-jobs';
import { BenchContext, BenchOutput, ENQUEUE_IN_FLIGHT_PUBLIC, pool, sideBySide } from './drivers';
import { benchPrefix, defineJob, deletePrefix, median, round, startApp, waitFor } from './support';

const CHILD_JOB_ID = 'bench-batch-child';
const CALLBACK_JOB_ID = 'bench-batch-done';
const CONCURRENCY = 50;
const TIMEOUT_MS = 180_000;

interface BatchTimes {
  /** The call until it resolved: `jobs.batch`, or the last of the `enqueue` calls. */
  enqueueMs: number;
  /** Resolved until the callback ran (batch) or the last run completed (without). */
  afterResolvedMs: number;
  /** The (first) call until the callback ran or the last run completed. */
  totalMs: number;
  /** Batch: the last child's `execute` entered until the callback's (the callback may start before the last child's
   * `completed` event is told: the batch stage enqueues it inside observe). */
  callbackAfterLastChildMs?: number;
}

async function once(ctx: BenchContext, inBatch: boolean, children: number): Promise<BatchTimes> {
  const prefix = benchPrefix(inBatch ? 'batch' : 'nobatch');
  let completed = 0;
  let lastCompletedAt = 0;
  let callbackAt = 0;
  @Injectable()
  class Completions {
    @OnJobEvent('completed')
    onCompleted(event: JobEvent<'completed'>): void {
      if (event.jobId !== CHILD_JOB_ID) return;
      completed += 1;
      if (completed === children) lastCompletedAt = performance.now();
    }
  }
  let lastChildAt = 0;
  const Child = defineJob('BatchChildJob', { id: CHILD_JOB_ID }, () => {
    lastChildAt = performance.now();
  });
  const Callback = defineJob('BatchDoneJob', { id: CALLBACK_JOB_ID }, () => {
    callbackAt = performance.now();
  });
  const app = await startApp({
    redis: ctx.url,
    prefix,
    jobs: [Child, Callback],
    providers: [Completions],
    worker: { concurrency: CONCURRENCY },
  });
  try {
    const jobs = app.get(BackgroundJobs);
    const started = performance.now();
    if (inBatch) {
      await jobs.batch(
        Array.from({ length: children }, (_, n) => ({ job: Child, data: { n } })),
        { onComplete: { job: Callback } },
      );
    } else {
      await pool(children, ENQUEUE_IN_FLIGHT_PUBLIC, (n) => jobs.enqueue(Child, { n }));
    }
    const resolved = performance.now();
    const end = () => (inBatch ? callbackAt : lastCompletedAt);
    await waitFor(inBatch ? 'the batch callback' : `${children} runs completed`, () => end() > 0, TIMEOUT_MS, 2);
    return {
      enqueueMs: resolved - started,
      afterResolvedMs: end() - resolved,
      totalMs: end() - started,
      ...(inBatch ? { callbackAfterLastChildMs: callbackAt - lastChildAt } : {}),
    };
  } finally {
    await app.close();
    await deletePrefix(prefix, ctx.url);
  }
}

export async function batch(ctx: BenchContext): Promise<BenchOutput> {
  const children = ctx.sizes.batchChildren;
  // NOTE: one unmeasured round per side first, at this size.
  await once(ctx, true, children);
  await once(ctx, false, children);
  const times: Record<'batch' | 'plain', BatchTimes[]> = { batch: [], plain: [] };
  const result = await sideBySide(ctx.sizes.reps, async (side) => {
    const inBatch = side === 'framework';
    const measured = await once(ctx, inBatch, children);
    times[inBatch ? 'batch' : 'plain'].push(measured);
    return measured.totalMs;
  });
  const med = (of: BatchTimes[], pick: (t: BatchTimes) => number | undefined) =>
    round(median(of.map((t) => pick(t) ?? Number.NaN)), 0);
  const b = {
    enqueueMs: med(times.batch, (t) => t.enqueueMs),
    afterResolvedMs: med(times.batch, (t) => t.afterResolvedMs),
    totalMs: med(times.batch, (t) => t.totalMs),
    callbackAfterLastChildMs: med(times.batch, (t) => t.callbackAfterLastChildMs),
  };
  const p = {
    enqueueMs: med(times.plain, (t) => t.enqueueMs),
    afterResolvedMs: med(times.plain, (t) => t.afterResolvedMs),
    totalMs: med(times.plain, (t) => t.totalMs),
  };
  ctx.log(
    `batch: ${children} children, batch ${times.batch.map((t) => Math.round(t.totalMs)).join('/')} ms, ` +
      `without ${times.plain.map((t) => Math.round(t.totalMs)).join('/')} ms, ratio ${result.ratio.runs.join('/')}`,
  );
  const label = 'batch';
  return {
    figures: {
      'batch.afterResolvedMs': b.afterResolvedMs,
      'batch.totalMs': b.totalMs,
      'plain.afterResolvedMs': p.afterResolvedMs,
      'plain.totalMs': p.totalMs,
      ratio: result.ratio.median,
    },
    rows: [
      {
        benchmark: label,
        figure: `${children} no-op children, c = ${CONCURRENCY}: batch() resolved → onComplete ran (without: last enqueue resolved → all completed)`,
        value: `${b.afterResolvedMs} ms (${p.afterResolvedMs} ms)`,
      },
      {
        benchmark: label,
        figure: `${children} children: first call → onComplete ran / → all completed without a batch`,
        value: `${b.totalMs} / ${p.totalMs} ms = ${result.ratio.median.toFixed(2)}× (enqueue ${b.enqueueMs} / ${p.enqueueMs} ms)`,
      },
      {
        benchmark: label,
        figure: `${children} children: last child entered → onComplete entered`,
        value: `${b.callbackAfterLastChildMs} ms`,
      },
    ],
    details: { children, concurrency: CONCURRENCY, ...result, batch: b, plain: p, samples: times },
  };
}
