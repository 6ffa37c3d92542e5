import type { Ledger, RunFacts, RunRow, Verdict } from './invariants';
import { CONCURRENCY_CAP, LOOP_WATCH, RATE_LIMIT, RETRY_ATTEMPTS } from './workload';

/**
 * Flow control and batches, from the ledger. Redis counts a start (the admission script, on Redis time) before the
 * body records it (`runs.began_at`, the first line of `execute`, on the same host's clock): the reply travels back
 * through the worker's proxy, and the worker's event loop turns before `execute` runs. That takes up to BASE_GAP_MS
 * when the loop runs freely (the flow-control e2e test, on a quieter host, states 40 ms); on top of it come the delay
 * of a latency or stall fault on that worker's link, and each stall of the worker's event loop the watch measured
 * (app.ts `watchLoop`: on a 2-core host at load 10–18 the loop stops for 100–400 ms at times, the process not being
 * scheduled). So a start Redis counted at `c` is recorded at `began` with `began - gap <= c <= began`.
 */
const BASE_GAP_MS = 250;

/** How long before its recorded start Redis may have counted this run. */
function gapOf(run: RunRow, facts: RunFacts): number {
  const began = beganAt(run);
  let gap = BASE_GAP_MS;
  for (const link of facts.slowLinks)
    if (link.worker === run.worker && link.from <= began && link.to >= began - BASE_GAP_MS - link.delayMs)
      gap += link.delayMs;
  // NOTE: a stall measured `lateMs` at `at` blocked the loop for up to `lateMs + everyMs` before `at`; it delayed
  // this start if it began before it and ended within the gap before it (latest first: each one widens the gap).
  const stalls = facts.loopStalls.filter((s) => s.worker === run.worker).sort((a, b) => b.at - a.at);
  for (const stall of stalls) {
    const blocked = stall.lateMs + LOOP_WATCH.everyMs;
    if (stall.at - blocked <= began && stall.at >= began - gap) gap += blocked;
  }
  return gap;
}

const beganAt = (run: RunRow) => (run.began_at as Date).getTime();

/**
 * Redis data epochs: Redis restarted empty (or failed over, losing asynchronous writes) drops the rate logs and the
 * slots with everything else, so each limit starts again from empty and a window never spans two epochs. Epoch `e`
 * is live from the return of Redis after the e-th loss to the next loss. A run is counted in every epoch its
 * admission may fall in (`[began - gap, began]` meeting an epoch's live span): an ambiguous run weighs on both sides.
 */
function epochsOf(run: RunRow, gap: number, facts: RunFacts): number[] {
  const losses = facts.redisDown
    .filter((w) => facts.dataLoss.some((at) => at >= w.from && at <= w.to))
    .sort((a, b) => a.from - b.from);
  const began = beganAt(run);
  const epochs: number[] = [];
  for (let e = 0; e <= losses.length; e++) {
    const from = e === 0 ? -Infinity : losses[e - 1].to;
    const to = e === losses.length ? Infinity : losses[e].from;
    if (began - gap <= to && began >= from) epochs.push(e);
  }
  return epochs;
}

/** When the epoch `e` ends (Redis loses the slots and logs it held), or never. */
function epochEnd(e: number, facts: RunFacts): number {
  const losses = facts.dataLoss.slice().sort((a, b) => a - b);
  return e < losses.length ? losses[e] : Infinity;
}

/**
 * Never more than `max` starts per tenant in any sliding window of `durationMs`, counting every body execution (each
 * attempt passes admission). `max + 1` starts break the limit for sure when their admissions must lie in one window:
 * the latest recorded start minus the earliest possible admission is under `durationMs`.
 */
export function rateLimitHeld({ runs }: Ledger, facts: RunFacts): Verdict {
  const { max, durationMs } = RATE_LIMIT;
  const groups = new Map<string, Array<{ run: RunRow; lo: number; hi: number }>>();
  let ambiguous = 0;
  let widest = 0;
  const rated = runs.filter((r) => r.job_id === 'chaos-rate');
  for (const run of rated) {
    const gap = gapOf(run, facts);
    widest = Math.max(widest, gap);
    const epochs = epochsOf(run, gap, facts);
    if (epochs.length > 1) ambiguous++;
    for (const e of epochs) {
      const key = `${run.tenant}#${e}`;
      groups.set(key, [...(groups.get(key) ?? []), { run, lo: beganAt(run) - gap, hi: beganAt(run) }]);
    }
  }
  const bad: string[] = [];
  let tightest = Infinity;
  let margin = Infinity;
  for (const [key, starts] of groups) {
    starts.sort((a, b) => a.hi - b.hi);
    for (let j = 0; j < starts.length; j++) {
      const inWindow = starts.slice(0, j + 1).filter((s) => s.lo > starts[j].hi - durationMs);
      if (inWindow.length > max)
        bad.push(`${key}: ${inWindow.length} starts up to ${new Date(starts[j].hi).toISOString()}`);
      // NOTE: the closest the recorded starts came to the limit: the shortest span holding max + 1 of them, and the
      // least slack of such a span: the most any of its starts' earliest possible count lies before the window that
      // ends at its last start (below 0, all of them must have been counted inside it: a violation).
      if (j >= max) {
        tightest = Math.min(tightest, starts[j].hi - starts[j - max].hi);
        const slack = starts.slice(j - max, j + 1).map((s) => starts[j].hi - durationMs - s.lo);
        margin = Math.min(margin, Math.max(...slack));
      }
    }
  }
  return {
    name: `never more than ${max} starts per tenant in any ${durationMs} ms window (rateLimit)`,
    held: bad.length === 0,
    detail:
      `${rated.length} rate-limited starts over ${groups.size} tenant × Redis-epoch groups, shortest span of ${max + 1} ` +
      `recorded starts ${tightest === Infinity ? '—' : `${tightest} ms`}, least slack over a violation ` +
      `${margin === Infinity ? '—' : `${margin} ms`} (gap Redis count → execute: ${BASE_GAP_MS} ms + link faults + ` +
      `loop stalls, at most ${widest} ms), ${ambiguous} starts whose epoch is ambiguous (counted in both), ` +
      `${bad.length} windows over` +
      (bad.length ? `: ${bad.slice(0, 3).join('; ')}` : ''),
  };
}

/**
 * Never more than `max` runs of one tenant running at once. A body runs inside its slot: it records its start after
 * the admission took the slot and its end before the permit is released, so recorded intervals overlap only if the
 * slots did. A SIGKILLed worker records no end: its run's interval ends when its process exited (its slot lives on
 * in Redis until the slot TTL, which only makes Redis stricter). A loss of Redis data ends every slot of the epoch.
 */
export function concurrencyCapHeld({ runs }: Ledger, facts: RunFacts): Verdict {
  const capped = runs.filter((r) => r.job_id === 'chaos-conc');
  const { groups, worst, over, killed, unended } = peaksPerTenantAndEpoch(capped, CONCURRENCY_CAP, facts);
  return {
    name: `at most ${CONCURRENCY_CAP} run of one tenant at once (concurrency key)`,
    held: over.length === 0 && unended === 0,
    detail:
      `${capped.length} concurrency-keyed runs over ${groups} tenant × Redis-epoch groups, highest concurrency ` +
      `${worst}; ${killed} cut short by their worker's exit (interval ended there), ${unended} with no end and no exit` +
      (over.length ? `; over the cap: ${over.slice(0, 3).join('; ')}` : ''),
  };
}

/**
 * The most runs of one tenant running at once within each Redis data epoch (`epochsOf`; a run's interval ends at
 * its recorded end, its worker's exit, or the end of the epoch, whichever comes first), and the moments over `cap`.
 */
export function peaksPerTenantAndEpoch(
  runs: RunRow[],
  cap: number,
  facts: RunFacts,
): { groups: number; worst: number; over: string[]; killed: number; unended: number } {
  const events = new Map<string, Array<[number, number]>>();
  let killed = 0;
  let unended = 0;
  for (const run of runs) {
    const began = beganAt(run);
    const exit = facts.exits.filter((x) => x.worker === run.worker && x.at >= began).sort((a, b) => a.at - b.at)[0];
    let end = run.ended_at ? run.ended_at.getTime() : Infinity;
    if (exit && exit.at < end) {
      end = exit.at;
      killed++;
    } else if (!run.ended_at) unended++;
    for (const e of epochsOf(run, gapOf(run, facts), facts)) {
      const key = `${run.tenant ?? '(host)'}#${e}`;
      events.set(key, [...(events.get(key) ?? []), [1, began], [-1, Math.min(end, epochEnd(e, facts))]]);
    }
  }
  let worst = 0;
  const over: string[] = [];
  for (const [key, list] of events) {
    list.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    let now = 0;
    for (const [delta, at] of list) {
      now += delta;
      worst = Math.max(worst, now);
      if (now > cap) over.push(`${key}: ${now} at ${new Date(at).toISOString()}`);
    }
  }
  return { groups: events.size, worst, over, killed, unended };
}

/** A child's final end: the first body that ended it for good (completed, or failed on its last attempt). */
function finalEnd(runs: RunRow[]): number | undefined {
  const ends = runs
    .filter(
      (r) => r.ended_at && (r.outcome?.startsWith('ok') || (r.outcome === 'failed' && r.attempt >= RETRY_ATTEMPTS)),
    )
    .map((r) => (r.ended_at as Date).getTime());
  return ends.length ? Math.min(...ends) : undefined;
}

/**
 * Each acknowledged batch's `onComplete` exactly once (one callback execution, its effect once), not before every
 * child ended, with the batch's final counts. A batch may have no callback only when Redis lost its data after the
 * batch was acknowledged, or when a child failed for stalling too often (BullMQ fails it outside the pipeline: not
 * counted, docs/composition.md › Limits of this version).
 */
export async function batchCallbackOnce({ runs, effects, finals, batches }: Ledger, facts: RunFacts): Promise<Verdict> {
  const byExecution = new Map<string, RunRow[]>();
  for (const r of runs) byExecution.set(r.execution_id, [...(byExecution.get(r.execution_id) ?? []), r]);
  const callbacks = runs.filter((r) => r.job_id === 'chaos-batch-done');
  const callbackIds = new Set(callbacks.map((r) => r.execution_id));
  let once = 0;
  let lost = 0;
  let stalledChild = 0;
  let redelivered = 0;
  const bad: string[] = [];
  const missing = batches.filter((b) => !callbackIds.has(`${b.batch_id}.complete`));
  const childIds = missing.flatMap((b) => b.children).filter((id) => !finals.has(id) && !effects.has(id));
  const states: Record<string, string> = { ...Object.fromEntries(finals), ...(await facts.states(childIds)) };
  for (const b of batches) {
    const id = `${b.batch_id}.complete`;
    const bodies = byExecution.get(id) ?? [];
    if (bodies.length === 0) {
      const failedUncounted = b.children.filter(
        (c) => states[c] === 'failed' && finalEnd(byExecution.get(c) ?? []) === undefined,
      );
      if (facts.dataLoss.some((at) => at >= b.acked_at.getTime())) lost++;
      else if (failedUncounted.length) stalledChild++;
      else
        bad.push(
          `${b.batch_id}: no callback; children ${b.children.map((c) => states[c] ?? (effects.has(c) ? 'effect' : '?')).join(',')}`,
        );
      continue;
    }
    const before = bad.length;
    if (!effects.has(id)) bad.push(`${id} ran but took no effect`);
    if (bodies.filter((r) => r.outcome?.startsWith('ok')).length > 1) redelivered++;
    const first = Math.min(...bodies.map(beganAt));
    const early = b.children.filter((c) => {
      const end = finalEnd(byExecution.get(c) ?? []);
      return end === undefined || end > first;
    });
    if (early.length) bad.push(`${id} began before ${early.length} of ${b.children.length} children ended`);
    const summary = bodies[0].batch as { total?: number; pending?: number; completed?: number; failed?: number } | null;
    if (summary?.total !== b.children.length || summary.pending !== 0)
      bad.push(`${id} saw ${JSON.stringify(summary)} for ${b.children.length} children`);
    if (bad.length === before) once++;
  }
  const stray = [...callbackIds].filter((id) => !batches.some((b) => `${b.batch_id}.complete` === id));
  return {
    name: 'each batch’s onComplete exactly once, after all its children ended',
    held: bad.length === 0,
    detail:
      `${batches.length} acknowledged batches: ${once} callbacks once with the final counts, ${lost} lost with Redis data, ` +
      `${stalledChild} waiting on a child failed by stalling (not counted: documented limit); ` +
      `${redelivered} callback bodies completed twice (one effect), ${stray.length} callbacks of unacknowledged batches` +
      (bad.length ? `; ${bad.length} violations: ${bad.slice(0, 3).join('; ')}` : ''),
  };
}
