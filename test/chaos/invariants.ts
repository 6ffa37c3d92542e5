import type { Pool } from 'pg';
import { batchCallbackOnce, concurrencyCapHeld, peaksPerTenantAndEpoch, rateLimitHeld } from './flow-invariants';
import { HISTORY, RETRY_ATTEMPTS, STEPS_SLEEP_MS, TENANT_CAP, TICK_EVERY_MS, WORKER_OPTIONS } from './workload';

/** One invariant's verdict, printed as one line with its counts. */
export interface Verdict {
  name: string;
  held: boolean;
  detail: string;
}

/** A span of wall time (ms since the epoch). */
export interface Window {
  from: number;
  to: number;
  why: string;
}

/** What the harness saw happen, for the checks that must tell a fault's loss from a bug. */
export interface RunFacts {
  /** When each fault that may lose acknowledged writes killed its server (Redis restarted empty, Sentinel failover). */
  dataLoss: number[];
  /** When no worker could run: all down or cut off, Redis down, a failover in progress. */
  workless: Window[];
  /** When Redis was down or failing over (`why` names the fault). */
  redisDown: Window[];
  /**
   * Sentinel only: when Redis may have had two masters taking writes (Sentinel failing over on its own while the old
   * master kept its clients; run.ts `watchReplication`). Each ends in a data loss, and while it lasts each master keeps
   * its own counters and slots.
   */
  twoMasters: Window[];
  /** Every exit of an app process (by its name: `worker-1` is the same name across restarts). */
  exits: Array<{ worker: string; at: number }>;
  /** Latency and stalls on a process's link: replies held back by up to `delayMs` between `from` and `to`. */
  slowLinks: Array<{ worker: string; from: number; to: number; delayMs: number }>;
  /** Stalls of a process's event loop (app.ts `watchLoop`): its timer fired `lateMs` late at `at`. */
  loopStalls: Array<{ worker: string; at: number; lateMs: number }>;
  /** Last moment ticks are expected (the drain's start). */
  producingUntil: number;
  /** Final state of the executions the ledger cannot account for, asked from the library after the drain. */
  states: (ids: string[]) => Promise<Record<string, string>>;
  /** Queue counts after the drain, and the retention figures. */
  queue: { active: number; waiting: number; prioritized: number; completed: number; failed: number; delayed: number };
  keys: { total: number; jobKeys: number; locksWithoutTtl: number; finishedBatchKeys: number };
}

export interface RunRow {
  execution_id: string;
  job_id: string;
  attempt: number;
  worker: string;
  tenant: string | null;
  scheduled_at: Date | null;
  fence: string | null;
  started_at: Date;
  ended_at: Date | null;
  outcome: string | null;
  /** Taken in `execute` before its first await (the app's clock; `started_at` is PostgreSQL's, a query later). */
  began_at: Date;
  /** The callback run's `ctx.batch`. */
  batch: unknown;
}

/** Slack after a fault before a tick counts as missed: a killed worker's runs come back within lock + stall. */
const RECOVERY_MS = WORKER_OPTIONS.lockDurationMs + WORKER_OPTIONS.stalledIntervalMs;

/**
 * The invariants, each from the ledger (PostgreSQL) and the facts above. A later invariant (a rate limit never
 * exceeded, a batch callback exactly once, no completed step run again) is one more function in CHECKS.
 */
export async function checkInvariants(pool: Pool, schema: string, facts: RunFacts): Promise<Verdict[]> {
  const runs = (await pool.query<RunRow>(`SELECT * FROM ${schema}.runs ORDER BY started_at`)).rows;
  const effects = new Set(
    (await pool.query<{ execution_id: string }>(`SELECT execution_id FROM ${schema}.effects`)).rows.map(
      (r) => r.execution_id,
    ),
  );
  const enqueued = (
    await pool.query<{ execution_id: string; job_id: string; fail_attempts: number; acked_at: Date }>(
      `SELECT * FROM ${schema}.enqueued`,
    )
  ).rows;
  const finals = new Map(
    (
      await pool.query<{ execution_id: string; state: string; kind: string }>(`SELECT * FROM ${schema}.finals`)
    ).rows.map((r) => [r.execution_id, `${r.state}`]),
  );
  const stepCalls = (
    await pool.query<Ledger['stepCalls'][number]>(`SELECT * FROM ${schema}.step_calls ORDER BY started_at`)
  ).rows;
  const stepReturns = (
    await pool.query<{ execution_id: string; step: string; at: Date }>(`SELECT * FROM ${schema}.step_returns`)
  ).rows;
  const batches = (
    await pool.query<{ batch_id: string; children: string[]; acked_at: Date }>(`SELECT * FROM ${schema}.batches`)
  ).rows;
  const sleeps = (
    await pool.query<{ execution_id: string; reached_at: Date; woke_at: Date | null }>(`SELECT * FROM ${schema}.sleeps`)
  ).rows;
  const ledger = { runs, effects, enqueued, finals, stepCalls, stepReturns, batches, sleeps };
  const verdicts: Verdict[] = [];
  for (const check of CHECKS) verdicts.push(await check(ledger, facts));
  return verdicts;
}

export type Ledger = {
  runs: RunRow[];
  /** Execution id → `failed` or `skipped`, written by the app's job-event handler as the run ended. */
  finals: Map<string, string>;
  stepCalls: Array<{
    execution_id: string;
    step: string;
    attempt: number;
    worker: string;
    started_at: Date;
    ended_at: Date | null;
  }>;
  stepReturns: Array<{ execution_id: string; step: string; at: Date }>;
  /** Each `ctx.sleep` of chaos-steps: when its run first reached it, and when it returned (the app's clock). */
  sleeps: Array<{ execution_id: string; reached_at: Date; woke_at: Date | null }>;
  effects: Set<string>;
  enqueued: Array<{ execution_id: string; job_id: string; fail_attempts: number; acked_at: Date }>;
  /** One row per acknowledged `batch()`: its id and its children's execution ids. */
  batches: Array<{ batch_id: string; children: string[]; acked_at: Date }>;
};

const CHECKS: Array<(ledger: Ledger, facts: RunFacts) => Promise<Verdict> | Verdict> = [
  exactlyOnce,
  attemptsWithinPolicy,
  noDoubledTick,
  noUnexplainedMissedTick,
  oneLockHolder,
  fencingTokensIncrease,
  tenantCap,
  rateLimitHeld,
  concurrencyCapHeld,
  batchCallbackOnce,
  noCompletedStepRunAgain,
  noSleepEndedEarly,
  noStrandedRuns,
  retention,
];

async function exactlyOnce({ effects, enqueued, finals }: Ledger, facts: RunFacts): Promise<Verdict> {
  let once = 0;
  let failedByPolicy = 0;
  let skippedByLock = 0;
  let lostWithData = 0;
  const bad: string[] = [];
  const unaccounted = enqueued.filter((e) => !effects.has(e.execution_id) && !finals.has(e.execution_id));
  const states: Record<string, string> = Object.fromEntries(finals);
  if (unaccounted.length) Object.assign(states, await facts.states(unaccounted.map((e) => e.execution_id)));
  for (const e of enqueued) {
    const mustFail = e.fail_attempts >= RETRY_ATTEMPTS;
    if (effects.has(e.execution_id)) {
      if (mustFail) bad.push(`${e.execution_id} took effect but fails every attempt`);
      else once++;
      continue;
    }
    const state = states[e.execution_id];
    if (state === 'failed') failedByPolicy++;
    else if (state === 'skipped' && e.job_id === 'chaos-locked') skippedByLock++;
    else if (state === 'unknown' && facts.dataLoss.some((at) => at >= e.acked_at.getTime())) lostWithData++;
    else bad.push(`${e.job_id} ${e.execution_id} (acknowledged ${e.acked_at.toISOString()}) is ${state}, no effect`);
  }
  return {
    name: 'every acknowledged enqueue took effect exactly once or failed by policy',
    held: bad.length === 0,
    detail:
      `${enqueued.length} acknowledged: ${once} took effect once, ${failedByPolicy} failed by policy, ` +
      `${skippedByLock} skipped (lock held), ${lostWithData} lost with Redis data (restart empty / async failover)` +
      (bad.length ? `; ${bad.length} violations: ${bad.slice(0, 5).join('; ')}` : ''),
  };
}

function attemptsWithinPolicy({ runs }: Ledger): Verdict {
  const over = runs.filter((r) => r.job_id === 'chaos-effect' && r.attempt > RETRY_ATTEMPTS);
  const redelivered = new Map<string, number>();
  for (const r of runs)
    if (r.outcome?.startsWith('ok')) redelivered.set(r.execution_id, (redelivered.get(r.execution_id) ?? 0) + 1);
  const twice = [...redelivered.values()].filter((n) => n > 1).length;
  return {
    name: `no run attempted more than its policy allows (${RETRY_ATTEMPTS} attempts)`,
    held: over.length === 0,
    detail:
      `${runs.length} body executions, ${over.length} beyond the policy; ` +
      `${twice} executions whose body completed more than once (at-least-once redelivery, absorbed by the execution id)`,
  };
}

function noDoubledTick({ runs }: Ledger): Verdict {
  const bySlot = new Map<number, Set<string>>();
  for (const r of runs.filter((r) => r.job_id === 'chaos-tick' && r.scheduled_at)) {
    const at = (r.scheduled_at as Date).getTime();
    bySlot.set(at, (bySlot.get(at) ?? new Set()).add(r.execution_id));
  }
  const doubled = [...bySlot].filter(([, ids]) => ids.size > 1);
  return {
    name: 'no tick doubled',
    held: doubled.length === 0,
    detail:
      `${bySlot.size} ticks, ${doubled.length} run under two execution ids` +
      (doubled.length
        ? `: ${doubled
            .slice(0, 5)
            .map(([at]) => new Date(at).toISOString())
            .join(', ')}`
        : ''),
  };
}

function noUnexplainedMissedTick({ runs }: Ledger, facts: RunFacts): Verdict {
  const slots = new Set(
    runs
      .filter((r) => r.job_id === 'chaos-tick' && r.scheduled_at)
      .map((r) => Math.floor((r.scheduled_at as Date).getTime() / TICK_EVERY_MS)),
  );
  if (slots.size === 0) return { name: 'ticks missed only while no worker ran', held: false, detail: 'no tick ran' };
  const first = Math.min(...slots);
  const last = Math.floor((facts.producingUntil - RECOVERY_MS) / TICK_EVERY_MS);
  // A tick whose worker was killed as it took it comes back after its lease and a stall check, and the run-once
  // misfire policy folds the slots due meanwhile into it: such a slot is explained by that tick's late start.
  const exits = facts.exits.filter((e) => e.worker.startsWith('worker')).map((e) => e.at);
  const heldByKilled = runs
    .filter((r) => r.job_id === 'chaos-tick' && r.scheduled_at)
    .map((r) => ({ due: (r.scheduled_at as Date).getTime(), began: r.began_at.getTime() }))
    .filter(({ due, began }) => exits.some((x) => x >= due - TICK_EVERY_MS && x <= began && began - x <= RECOVERY_MS));
  let missed = 0;
  let folded = 0;
  const unexplained: number[] = [];
  for (let slot = first; slot <= last; slot++) {
    if (slots.has(slot)) continue;
    missed++;
    const at = slot * TICK_EVERY_MS;
    if (facts.workless.some((w) => at >= w.from - TICK_EVERY_MS && at <= w.to + RECOVERY_MS)) continue;
    if (heldByKilled.some((t) => at >= t.due && at <= t.began)) folded++;
    else unexplained.push(at);
  }
  return {
    name: 'ticks missed only while no worker ran (misfire run-once)',
    held: unexplained.length === 0,
    detail:
      `${last - first + 1} tick slots, ${missed} missed, ${missed - unexplained.length - folded} while no worker ` +
      `could run (+${RECOVERY_MS} ms recovery), ${folded} behind a tick whose worker was killed holding it ` +
      `(started within ${RECOVERY_MS} ms of the kill), ${unexplained.length} otherwise` +
      (unexplained.length
        ? `: ${unexplained
            .slice(0, 5)
            .map((t) => new Date(t).toISOString())
            .join(', ')}`
        : ''),
  };
}

const lockedRuns = (runs: RunRow[]) => runs.filter((r) => r.job_id === 'chaos-locked' && r.fence !== null);

/**
 * Whether Redis may have had two masters between the starts `a` and `b` (each master hands out its own leases and
 * tokens: two holders and tokens out of order are what two masters do, and Redis drops one side's writes after).
 * The span is widened by a second before, as a data loss is (a lease taken just before the split).
 */
function duringTwoMasters(facts: RunFacts, a: Date, b: Date): boolean {
  return facts.twoMasters.some((w) => b.getTime() >= w.from - 1_000 && a.getTime() <= w.to);
}

function oneLockHolder({ runs }: Ledger, facts: RunFacts): Verdict {
  const held = lockedRuns(runs).filter((r) => r.ended_at);
  let overlaps = 0;
  let fenced = 0;
  let split = 0;
  const bad: string[] = [];
  for (let i = 0; i < held.length; i++)
    for (let j = i + 1; j < held.length && held[j].started_at < (held[i].ended_at as Date); j++) {
      overlaps++;
      // NOTE: an overlap is safe when one side lost its lease and knew it (aborted) or was refused by the fence.
      const safe = [held[i], held[j]].some((r) => !r.outcome?.startsWith('ok'));
      if (safe) fenced++;
      else if (duringTwoMasters(facts, held[i].started_at, held[j].started_at)) split++;
      else
        bad.push(
          `${held[i].execution_id} (fence ${held[i].fence}) and ${held[j].execution_id} (fence ${held[j].fence})`,
        );
    }
  return {
    name: 'never two holders of one lock key at once',
    held: bad.length === 0,
    detail:
      `${held.length} locked runs, ${overlaps} overlaps of which ${fenced} with a holder aborted or fenced off, ` +
      `${split} while Redis had two masters, ${bad.length} with both completing otherwise` +
      (bad.length ? `: ${bad.slice(0, 3).join('; ')}` : ''),
  };
}

function fencingTokensIncrease({ runs }: Ledger, facts: RunFacts): Verdict {
  const locked = lockedRuns(runs);
  let inversions = 0;
  let restarts = 0;
  let split = 0;
  for (let i = 1; i < locked.length; i++) {
    if (Number(locked[i].fence) > Number(locked[i - 1].fence)) continue;
    // NOTE: the counter lives in Redis: Redis losing its data starts it again, which the guarded resource sees as a
    // stale token (refused: safe, but locked runs fail until the counter passes the highest token it saw).
    const lost = facts.dataLoss.some(
      (at) => at >= locked[i - 1].started_at.getTime() - 1_000 && at <= locked[i].started_at.getTime(),
    );
    if (lost) restarts++;
    else if (duringTwoMasters(facts, locked[i - 1].started_at, locked[i].started_at)) split++;
    else inversions++;
  }
  return {
    name: 'fencing tokens strictly increasing in the order holders started',
    held: inversions === 0,
    detail:
      `${locked.length} leases, ${inversions} out of order; ${restarts} counter restarts after Redis lost its data, ` +
      `${split} while Redis had two masters, ` +
      `${runs.filter((r) => r.outcome === 'fenced').length} runs refused by the fenced resource`,
  };
}

/**
 * `fairness.concurrencyPerTenant` is a concurrency key (the admission's slots, as `concurrencyCapHeld`): counted per
 * tenant and Redis data epoch, a run's interval cut at its worker's exit.
 */
function tenantCap({ runs }: Ledger, facts: RunFacts): Verdict {
  const fair = runs.filter((r) => r.job_id === 'chaos-fair' && !r.outcome?.startsWith('aborted'));
  const { groups, worst, over, killed, unended } = peaksPerTenantAndEpoch(fair, TENANT_CAP, facts);
  return {
    name: `at most ${TENANT_CAP} runs of one tenant at once (fairness.concurrencyPerTenant)`,
    held: over.length === 0 && unended === 0,
    detail:
      `${fair.length} fair runs over ${groups} tenant × Redis-epoch groups, highest concurrency ${worst}; ${killed} ` +
      `cut short by their worker's exit, ${unended} with no end and no exit` +
      (over.length ? `; over the cap: ${over.slice(0, 3).join('; ')}` : ''),
  };
}

/**
 * A step's kept results are read when its run's attempt starts (`ctx.step` returns a result kept by then without
 * calling the function), so a call is judged from when its run began: a run that began after the step returned must
 * not call it again. A run that began before (a duplicate delivered while the first still ran, its lease lost to a
 * stalled event loop or link) runs it at least once more, as any step not yet kept.
 */
function noCompletedStepRunAgain({ runs, stepCalls, stepReturns }: Ledger, facts: RunFacts): Verdict {
  const returned = new Map<string, number>();
  for (const r of stepReturns) {
    const key = `${r.execution_id}/${r.step}`;
    returned.set(key, Math.min(returned.get(key) ?? Infinity, r.at.getTime()));
  }
  const runsOf = new Map<string, RunRow[]>();
  for (const r of runs.filter((r) => r.job_id === 'chaos-steps')) {
    const key = `${r.execution_id}/${r.attempt}/${r.worker}`;
    runsOf.set(key, [...(runsOf.get(key) ?? []), r]);
  }
  /** When the run that made this call began: the latest run of its execution, attempt and worker begun before it. */
  const runBegan = (c: Ledger['stepCalls'][number], at: number) =>
    Math.max(
      -Infinity,
      ...(runsOf.get(`${c.execution_id}/${c.attempt}/${c.worker}`) ?? [])
        .map((r) => (r.began_at as Date).getTime())
        .filter((began) => began <= at),
    );
  let rerunBeforeReturn = 0;
  let duplicateRun = 0;
  let lostWithData = 0;
  const bad: string[] = [];
  const firstCall = new Map<string, number>();
  /** The earliest a step's result can have been written to Redis: when a call of its function first ended. */
  const firstEnded = new Map<string, number>();
  for (const c of stepCalls) {
    const key = `${c.execution_id}/${c.step}`;
    const at = c.started_at.getTime();
    if (firstCall.has(key)) {
      const returnedAt = returned.get(key);
      const written = firstEnded.get(key) ?? returnedAt ?? at;
      // NOTE: a step whose function ran but whose result was not kept yet (killed in between) runs again: at least once.
      if (returnedAt === undefined || at < returnedAt) rerunBeforeReturn++;
      else if (runBegan(c, at) < returnedAt) duplicateRun++;
      // NOTE: a result is lost with the data when the server died after it was written (between the function's end and
      // the recorded return, the write and a PostgreSQL insert) and before the call again.
      else if (facts.dataLoss.some((loss) => loss >= written && loss <= at)) lostWithData++;
      else bad.push(`${key} called again ${at - returnedAt} ms after it returned, by a run begun after that`);
    }
    firstCall.set(key, Math.min(firstCall.get(key) ?? Infinity, at));
    if (c.ended_at) firstEnded.set(key, Math.min(firstEnded.get(key) ?? Infinity, c.ended_at.getTime()));
  }
  return {
    name: 'no completed step run again (ctx.step)',
    held: bad.length === 0,
    detail:
      `${returned.size} steps returned, ${stepCalls.length} step calls; ${rerunBeforeReturn} called again before ` +
      `their result was kept, ${duplicateRun} by a duplicate run begun before it was kept, ${lostWithData} after ` +
      `Redis lost their result, ${bad.length} after they returned` +
      (bad.length ? `: ${bad.slice(0, 3).join('; ')}` : ''),
  };
}

/**
 * A sleep's wake time is fixed when its run first reaches it (later, if the run was lost before keeping it), so it
 * returns no earlier than `STEPS_SLEEP_MS` after it was first reached, whatever was killed or restarted meanwhile. A
 * sleep that never returned ended with its run failed (by policy or by stalling), or was lost with Redis's data.
 */
function noSleepEndedEarly({ sleeps, finals }: Ledger, facts: RunFacts): Verdict {
  const woke = sleeps.filter((s) => s.woke_at);
  // NOTE: 1 ms for the millisecond rounding of the two clocks' readings (both this host's).
  const early = woke.filter((s) => (s.woke_at as Date).getTime() - s.reached_at.getTime() < STEPS_SLEEP_MS - 1);
  const never = sleeps.filter((s) => !s.woke_at);
  const failed = never.filter((s) => finals.get(s.execution_id) === 'failed');
  const lost = never.filter(
    (s) => !failed.includes(s) && facts.dataLoss.some((loss) => loss >= s.reached_at.getTime()),
  );
  const stranded = never.filter((s) => !failed.includes(s) && !lost.includes(s));
  const slept = woke.map((s) => (s.woke_at as Date).getTime() - s.reached_at.getTime());
  return {
    name: `no sleep ended early (ctx.sleep ${STEPS_SLEEP_MS} ms)`,
    held: early.length === 0 && stranded.length === 0,
    detail:
      `${sleeps.length} sleeps reached, ${woke.length} returned (shortest ${slept.length ? Math.min(...slept) : '-'} ms, ` +
      `median ${slept.length ? slept.sort((a, b) => a - b)[slept.length >> 1] : '-'} ms); ${failed.length} never ` +
      `returned as their run failed, ${lost.length} lost with Redis data, ${early.length} ended early, ` +
      `${stranded.length} never returned otherwise` +
      (early.length || stranded.length
        ? `: ${[...early, ...stranded]
            .slice(0, 3)
            .map((s) => s.execution_id)
            .join(', ')}`
        : ''),
  };
}

function noStrandedRuns(_: Ledger, { queue }: RunFacts): Verdict {
  const left = queue.active + queue.waiting + queue.prioritized;
  return {
    name: 'after the drain, no stranded active or waiting runs',
    held: left === 0,
    detail: `${queue.active} active, ${queue.waiting} waiting, ${queue.prioritized} prioritized, ${queue.delayed} delayed (the next tick)`,
  };
}

function retention(_: Ledger, { queue, keys }: RunFacts): Verdict {
  const completedCap = HISTORY.completed.count;
  const failedCap = HISTORY.failed.count;
  // NOTE: each kept run is a hash and at most a log list; the rest are the queue's and the framework's own keys. A
  // finished batch's hash is kept 7 days by design (with its expiry set): those are counted apart.
  const bound = 2 * (completedCap + failedCap + queue.delayed + queue.waiting + queue.active) + 60;
  const counted = keys.total - keys.finishedBatchKeys;
  const held =
    queue.completed <= completedCap && queue.failed <= failedCap && counted <= bound && keys.locksWithoutTtl === 0;
  return {
    name: 'Redis keys back within the retention bounds',
    held,
    detail:
      `completed ${queue.completed}/${completedCap}, failed ${queue.failed}/${failedCap}, ` +
      `${counted} keys (${keys.jobKeys} of runs) against a bound of ${bound}, ${keys.locksWithoutTtl} lock keys without ` +
      `expiry, ${keys.finishedBatchKeys} finished batches' keys expiring (7 days)`,
  };
}
