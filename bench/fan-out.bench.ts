/** 6. Per-tenant fan-out: time to enqueue one child per tenant, against a raw `addBulk` of the same children. */
import { Queue } from 'bullmq';
import { BackgroundJobs, TENANT_DIRECTORY } from 'nestjs-background-jobs';
import { BenchContext, BenchOutput, Side, sideBySide } from './drivers';
import {
  benchPrefix,
  DEFAULT_QUEUE,
  defineJob,
  deletePrefix,
  FRAMEWORK_DEFAULT_JOB_OPTIONS,
  median,
  startApp,
  waitFor,
} from './support';

async function fanOutOnce(
  ctx: BenchContext,
  side: Side,
  tenants: string[],
): Promise<{ enqueueMs: number; allDoneMs?: number }> {
  const prefix = benchPrefix('fan');
  try {
    if (side === 'raw') {
      const queue = new Queue(DEFAULT_QUEUE, { connection: { url: ctx.url }, prefix });
      await queue.waitUntilReady();
      const started = performance.now();
      await queue.addBulk(
        tenants.map((tenantId, i) => ({
          name: 'bench-fan-out',
          data: { bgj: 1, tenantId },
          opts: { ...FRAMEWORK_DEFAULT_JOB_OPTIONS, jobId: `bench-fan-out.t.${i}` },
        })),
      );
      const enqueueMs = performance.now() - started;
      await queue.close();
      return { enqueueMs };
    }
    let listedAt = 0;
    let children = 0;
    const directory = {
      listTenantIds: async () => {
        listedAt = Date.now();
        return tenants;
      },
    };
    const FanOut = defineJob('FanOutJob', { id: 'bench-fan-out', tenancy: 'per-tenant' }, () => {
      children += 1;
    });
    const app = await startApp({
      redis: ctx.url,
      prefix,
      jobs: [FanOut],
      providers: [{ provide: TENANT_DIRECTORY, useValue: directory }],
      worker: { concurrency: 50 },
    });
    try {
      const started = Date.now();
      const parent = await app.get(BackgroundJobs).runNow(FanOut, { tenantId: null, waitTimeoutMs: 60_000 });
      if (parent.state !== 'completed' || !parent.finishedAt)
        throw new Error(`bench: the fan-out run ended ${parent.state}`);
      // NOTE: finishedOn is stamped by the worker right after the fan-out body (listTenantIds → addBulk) returned.
      const enqueueMs = parent.finishedAt.getTime() - listedAt;
      await waitFor(`${tenants.length} children`, () => children >= tenants.length, 60_000, 5);
      return { enqueueMs, allDoneMs: Date.now() - started };
    } finally {
      await app.close();
    }
  } finally {
    await deletePrefix(prefix, ctx.url);
  }
}

export async function fanOut(ctx: BenchContext): Promise<BenchOutput> {
  const tenants = Array.from({ length: ctx.sizes.tenants }, (_, i) => `tenant-${String(i).padStart(5, '0')}`);
  const allDone: number[] = [];
  const result = await sideBySide(ctx.sizes.reps, async (side) => {
    const { enqueueMs, allDoneMs } = await fanOutOnce(ctx, side, tenants);
    if (allDoneMs !== undefined) allDone.push(allDoneMs);
    return enqueueMs;
  });
  ctx.log(`fan-out: framework ${result.framework.runs.join('/')} ms, raw addBulk ${result.raw.runs.join('/')} ms`);
  const details = {
    tenants: tenants.length,
    frameworkEnqueueMs: result.framework,
    rawAddBulkMs: result.raw,
    frameworkAllChildrenDoneMs: { median: median(allDone), runs: allDone },
  };
  return {
    figures: {
      'framework.enqueueMs': result.framework.median,
      'raw.addBulkMs': result.raw.median,
      'framework.allDoneMs': median(allDone),
    },
    rows: [
      {
        benchmark: '6. per-tenant fan-out',
        figure: `${tenants.length} tenants: children enqueued (raw addBulk of the same)`,
        value: `${Math.round(result.framework.median)} ms (${Math.round(result.raw.median)} ms)`,
        goal: '≤ 1 s',
        met: result.framework.median <= 1_000,
      },
      {
        benchmark: '6. per-tenant fan-out',
        figure: `${tenants.length} tenants: trigger → every child run done`,
        value: `${Math.round(median(allDone))} ms`,
      },
    ],
    details,
  };
}
