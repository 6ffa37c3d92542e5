/**
 * The chaos soak's app (test/chaos/run.ts spawns it through test/reliability/support/instance.ts): a producer
 * (`role: 'producer'`, no worker) that enqueues a steady mix of runs, or a worker that runs them. Every body writes
 * to the effects ledger in PostgreSQL (a schema of the run's own, outside Redis, so a Redis restart cannot erase it):
 * `runs` one row per execution of a body (execution id, attempt, start, end, outcome, fencing token), `effects` one
 * row per execution id (the idempotent domain effect), `enqueued` one row per acknowledged enqueue.
 *
 * A new kind of workload is one entry in workload.ts JOBS and, if the producer enqueues it, one line in `produce()`.
 * Only type imports besides packages: this file is transpiled alone (test/reliability/support/instance.ts).
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import IORedis from 'ioredis';
import { Pool } from 'pg';
import {
  BackgroundJobs,
  BackgroundJobsModule,
  BullmqConnection,
  JobContext,
  JobEvent,
  OnJobEvent,
  PipelineJob,
} from 'nestjs-background-jobs';
import { STEPS_SLEEP_MS, type ChaosCommand, type ChaosConfig, type ChaosJob } from './workload';

const config = JSON.parse(process.env.RELIABILITY_CONFIG ?? '') as ChaosConfig;
const pool = new Pool({ connectionString: config.pgUrl, max: 4 });
const S = config.schema;
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Writes each stall of this process's event loop (its timer fired `late_ms` late at `at`: the loop was blocked, or the
 * process not scheduled, for that long before) to `loop_stalls` (workload.ts LOOP_WATCH). On a loaded host a run's reply from the admission
 * script can wait that long before `execute` records its start: the flow-control checks add these stalls to their gap.
 */
function watchLoop(): void {
  const { everyMs, stallMs } = config.loopWatch;
  let expected = Date.now() + everyMs;
  setInterval(() => {
    const now = Date.now();
    const late = now - expected;
    expected = now + everyMs;
    if (late >= stallMs)
      pool
        .query(`INSERT INTO ${S}.loop_stalls (worker, at, late_ms) VALUES ($1, $2, $3)`, [
          config.name,
          new Date(now),
          late,
        ])
        .catch(() => undefined);
  }, everyMs).unref();
}

function jobClass(options: ChaosJob): Function {
  const { holdMs, ...jobOptions } = options;
  const cls = class {
    async execute(ctx: JobContext<{ failAttempts?: number } | undefined>): Promise<string> {
      // NOTE: taken before any await: the flow-control checks bound the gap between admission and this moment.
      const beganAt = new Date();
      const { rows } = await pool.query<{ id: number }>(
        `INSERT INTO ${S}.runs (execution_id, job_id, attempt, worker, tenant, scheduled_at, fence, began_at, batch)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [
          ctx.executionId,
          ctx.jobId,
          ctx.attempt,
          config.name,
          ctx.tenantId,
          ctx.jobId === 'chaos-tick' ? (ctx.scheduledAt ?? null) : null,
          ctx.lease?.fencingToken ?? null,
          beganAt,
          ctx.batch ? JSON.stringify(ctx.batch) : null,
        ],
      );
      const end = (outcome: string) =>
        pool.query(`UPDATE ${S}.runs SET ended_at = clock_timestamp(), outcome = $2 WHERE id = $1`, [
          rows[0].id,
          outcome,
        ]);
      const hold = () => sleep(holdMs[0] + Math.random() * (holdMs[1] - holdMs[0]), ctx.signal);
      if (ctx.jobId === 'chaos-steps') await steps(ctx, hold, end);
      else await hold();
      if (ctx.signal.aborted) {
        await end(`aborted: ${String((ctx.signal.reason as Error)?.message ?? ctx.signal.reason).slice(0, 80)}`);
        ctx.signal.throwIfAborted();
      }
      if (ctx.attempt <= (ctx.data?.failAttempts ?? 0)) {
        await end('failed');
        throw new Error(`chaos: attempt ${ctx.attempt} fails by design`);
      }
      if (ctx.lease) {
        // NOTE: a fenced write, as a resource guarded by the lock would do it: a token older than the newest seen is
        // refused, so a holder that lost its lease while stalled cannot write over its successor.
        const fenced = await pool.query(
          `INSERT INTO ${S}.fence (key, token) VALUES ($1, $2)
           ON CONFLICT (key) DO UPDATE SET token = $2 WHERE ${S}.fence.token < $2`,
          [ctx.lease.key, ctx.lease.fencingToken],
        );
        if (fenced.rowCount === 0) {
          await end('fenced');
          throw new Error(`chaos: fencing token ${ctx.lease.fencingToken} refused`);
        }
      }
      const effect = await pool.query(
        `INSERT INTO ${S}.effects (execution_id, job_id, worker) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [ctx.executionId, ctx.jobId, config.name],
      );
      await end(effect.rowCount === 1 ? 'ok' : 'ok-duplicate');
      return config.name;
    }
  };
  Object.defineProperty(cls, 'name', { value: `${options.id.replace(/[^a-z0-9]/gi, '')}Job` });
  PipelineJob(jobOptions)(cls);
  return cls;
}

/**
 * Three durable steps: each call of a step's function is a `step_calls` row, each return of `ctx.step` (its result
 * kept) a `step_returns` row, so a step run again after it returned is visible. Between the second and the third, a
 * `ctx.sleep`: the run leaves its slot and comes back (the body runs again from the top, the kept steps return at once);
 * `sleeps` has when it was first reached and when it returned, so a sleep that ended early is visible.
 */
async function steps(ctx: JobContext<unknown>, hold: () => Promise<void>, end: (outcome: string) => Promise<unknown>) {
  for (const step of ['reserve', 'charge', 'ship']) {
    if (step === 'ship') await sleepBetween(ctx, end);
    await ctx.step(step, async () => {
      const { rows } = await pool.query<{ id: number }>(
        `INSERT INTO ${S}.step_calls (execution_id, step, attempt, worker) VALUES ($1, $2, $3, $4) RETURNING id`,
        [ctx.executionId, step, ctx.attempt, config.name],
      );
      await hold();
      ctx.signal.throwIfAborted();
      await pool.query(`UPDATE ${S}.step_calls SET ended_at = clock_timestamp() WHERE id = $1`, [rows[0].id]);
      return config.name;
    });
    await pool.query(`INSERT INTO ${S}.step_returns (execution_id, step, attempt) VALUES ($1, $2, $3)`, [
      ctx.executionId,
      step,
      ctx.attempt,
    ]);
  }
}

/**
 * Runs that end without an effect (failed, skipped because the lock was held) are written down as they end: after the
 * drain the queue may have trimmed them (history), and the invariants must still tell them from lost runs.
 */
@Injectable()
class FinalStates {
  @OnJobEvent('failed')
  async failed(event: JobEvent<'failed'>): Promise<void> {
    await this.record(event.executionId, event.jobId, 'failed', event.failure.kind);
  }

  @OnJobEvent('skipped')
  async skipped(event: JobEvent<'skipped'>): Promise<void> {
    await this.record(event.executionId, event.jobId, 'skipped', event.kind);
  }

  private async record(executionId: string, jobId: string, state: string, kind: string): Promise<void> {
    await pool.query(
      `INSERT INTO ${S}.finals (execution_id, job_id, state, kind) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [executionId, jobId, state, kind],
    );
  }
}

function connection(): BullmqConnection {
  const c = config.connection;
  if (c.kind === 'standalone') return { host: '127.0.0.1', port: c.port };
  if (c.kind === 'cluster') return { cluster: { nodes: c.seeds, options: { natMap: c.natMap } } };
  // NOTE: the library's connection options have no natMap for Sentinel, so the app hands it a client of its own:
  // the sentinels are asked directly, the master they name is reached through this process's proxy.
  const client = new IORedis({ sentinels: c.sentinels, name: c.name, natMap: c.natMap, maxRetriesPerRequest: null });
  client.on('error', () => undefined);
  return client;
}

/**
 * The producer's mix, every 400 ms: one enqueued run (a tenth fail every attempt), a locked run, a tenant burst, a
 * step run; every 2 s a burst of 3 rate-limited and of 3 concurrency-keyed runs (two tenants taking turns, so each
 * tenant's average stays under its limit while a burst exceeds it); every 4 s a batch of 2–5 runs with a callback.
 */
function produce(background: BackgroundJobs, stopped: () => boolean): Promise<void> {
  let state = config.seed >>> 0;
  const random = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296;
  let inFlight = 0;
  let round = 0;
  const enqueue = async (jobId: string, data: unknown, tenantId: string | null) => {
    if (inFlight >= 24) return;
    inFlight++;
    try {
      const executionId = await background.enqueue(jobId, data, { tenantId });
      const ackedAt = new Date();
      await pool.query(
        `INSERT INTO ${S}.enqueued (execution_id, job_id, tenant, fail_attempts, acked_at) VALUES ($1, $2, $3, $4, $5)`,
        // NOTE: when Redis acknowledged it, not when the ledger wrote it: a data loss in between lost an acknowledged run.
        [executionId, jobId, tenantId, (data as { failAttempts?: number } | undefined)?.failAttempts ?? 0, ackedAt],
      );
    } catch {
      // NOTE: not acknowledged (Redis down or unreachable): the ledger does not expect it.
    } finally {
      inFlight--;
    }
  };
  /** A batch of chaos-effect runs (some fail every attempt) with a chaos-batch-done callback; each child is enqueued. */
  const batch = async (size: number) => {
    if (inFlight >= 24) return;
    inFlight++;
    try {
      const fails = Array.from({ length: size }, () => (random() < 0.2 ? 99 : 0));
      const runs = fails.map((failAttempts) => ({ job: 'chaos-effect', data: { failAttempts } }));
      const { batchId, executionIds } = await background.batch(runs, { onComplete: { job: 'chaos-batch-done' } });
      const ackedAt = new Date();
      await pool.query(`INSERT INTO ${S}.batches (batch_id, children, acked_at) VALUES ($1, $2, $3)`, [
        batchId,
        executionIds,
        ackedAt,
      ]);
      for (const [i, executionId] of executionIds.entries())
        await pool.query(
          `INSERT INTO ${S}.enqueued (execution_id, job_id, tenant, fail_attempts, acked_at) VALUES ($1, $2, NULL, $3, $4)`,
          [executionId, 'chaos-effect', fails[i], ackedAt],
        );
    } catch {
      // NOTE: not acknowledged: the ledger expects neither the children nor the callback.
    } finally {
      inFlight--;
    }
  };
  return (async () => {
    while (!stopped()) {
      round++;
      const roll = random();
      void enqueue('chaos-effect', { failAttempts: roll < 0.1 ? 99 : roll < 0.25 ? 1 : 0 }, null);
      if (round % 2 === 0) void enqueue('chaos-locked', undefined, null);
      if (round % 3 === 0) void enqueue('chaos-steps', undefined, null);
      if (round % 5 === 0) {
        for (let i = 0; i < 3; i++) void enqueue('chaos-fair', undefined, 'tenant-hot');
        void enqueue('chaos-fair', undefined, `tenant-${1 + Math.floor(random() * 3)}`);
      }
      if (round % 5 === 1) for (let i = 0; i < 3; i++) void enqueue('chaos-rate', undefined, `rate-${round % 2}`);
      if (round % 5 === 2) for (let i = 0; i < 3; i++) void enqueue('chaos-conc', undefined, `conc-${round % 2}`);
      if (round % 10 === 3) void batch(2 + Math.floor(random() * 4));
      await sleep(400);
    }
    while (inFlight > 0) await sleep(50);
  })();
}

async function sleepBetween(ctx: JobContext<unknown>, end: (outcome: string) => Promise<unknown>): Promise<void> {
  await pool.query(`INSERT INTO ${S}.sleeps (execution_id, reached_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
    ctx.executionId,
    new Date(),
  ]);
  try {
    await ctx.sleep(STEPS_SLEEP_MS);
  } catch (signal) {
    // NOTE: the sleep leaves `execute` by throwing the framework's signal: record this stretch's end, then rethrow it.
    await end('asleep');
    throw signal;
  }
  await pool.query(`UPDATE ${S}.sleeps SET woke_at = $2 WHERE execution_id = $1 AND woke_at IS NULL`, [
    ctx.executionId,
    new Date(),
  ]);
}

async function main(): Promise<void> {
  watchLoop();
  const jobs = config.jobs.map(jobClass);
  @Module({
    imports: [
      BackgroundJobsModule.forRoot({
        transport: { type: 'bullmq', connection: connection(), prefix: config.prefix },
        worker: config.role === 'worker' ? config.worker : false,
      }),
    ],
    providers: [...jobs, FinalStates] as never[],
  })
  class ChaosModule {}

  const app = await NestFactory.createApplicationContext(ChaosModule, {
    logger: ['error', 'warn'],
    abortOnError: false,
  });
  app.enableShutdownHooks();
  const background = app.get(BackgroundJobs);
  let stop = false;
  const producing = config.role === 'producer' ? produce(background, () => stop) : Promise.resolve();
  process.on('message', (message: ChaosCommand & { id: number }) => {
    const answer = async (): Promise<unknown> => {
      switch (message.cmd) {
        case 'stop':
          stop = true;
          return producing;
        case 'states': {
          const states: Record<string, string> = {};
          for (const id of message.executionIds)
            states[id] = (await background.getExecution(id).catch(() => null))?.state ?? 'unknown';
          return states;
        }
      }
    };
    answer().then(
      (result) => process.send?.({ id: message.id, result }),
      (error: Error) => process.send?.({ id: message.id, error: error.message }),
    );
  });
  process.send?.({ ready: true, bootMs: Math.round(process.uptime() * 1000) });
}

main().catch(async (error: Error) => {
  process.stderr.write(`Boot failed: ${error.message}\n`);
  process.exitCode = 1;
  process.disconnect?.();
  await pool.end();
});
