import { BackgroundJobs, InvalidJobInputError, JobContext } from 'nestjs-background-jobs';
import { DEDUPE_TWICE, INVALID_DEDUPE } from 'nestjs-background-jobs/contracts/flow-control.messages';
import { appsPerTest, defineJob, TransportKind } from '../support/jobs-app';
import { waitFor } from '../support/redis';

/** One run as the job saw it: when it started (ms), its execution id and its payload. */
interface Seen {
  at: number;
  executionId: string;
  data: unknown;
}

/** A promise the test resolves to let running runs end. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe.each<TransportKind>(['local', 'bullmq'])('dedupe modes on the %s transport', (transport) => {
  const { boot } = appsPerTest(`dedupe-${transport}`);

  const start = async (id: string, body: (ctx: JobContext<any>) => unknown = () => undefined) => {
    const seen: Seen[] = [];
    const Job = defineJob(`Dedupe_${id.replace(/-/g, '_')}`, { id, retry: { attempts: 1 } }, async (ctx) => {
      seen.push({ at: Date.now(), executionId: ctx.executionId, data: ctx.data });
      await body(ctx);
    });
    const app = await boot({ transport, jobs: [Job], worker: { concurrency: 4 } });
    const jobs = app.get(BackgroundJobs);
    const count = async () => (await jobs.listExecutions({ jobId: id })).total;
    return { jobs, seen, count };
  };

  it('debounce: three enqueues within ttlMs make one run, with the last payload, at least ttlMs after the last call', async () => {
    const ttlMs = 800;
    const { jobs, seen, count } = await start('debounced');
    const ids: string[] = [];
    let lastCall = 0;
    for (const n of [1, 2, 3]) {
      lastCall = Date.now();
      ids.push(await jobs.enqueue('debounced', { n }, { dedupe: { key: 'user-7', mode: 'debounce', ttlMs } }));
    }
    await waitFor('the debounced run', async () => (await jobs.getExecution(ids[2]))?.state === 'completed', 10_000);
    const waited = seen[0].at - lastCall;
    process.stdout.write(`[dedupe ${transport}] debounce ${ttlMs} ms: ran ${waited} ms after the last call\n`);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ executionId: ids[2], data: { n: 3 } });
    expect(waited).toBeGreaterThanOrEqual(ttlMs);
    // The replaced runs are gone (BullMQ) or were the same run all along (embedded): one execution in all.
    expect(await count()).toBe(1);
  }, 20_000);

  it('throttle: five calls in a window make one run; a call after the window makes a second', async () => {
    // 5 s: the first run must end inside the window (it is checked), with room for a slow host.
    const ttlMs = 5_000;
    const { jobs, seen, count } = await start('throttled');
    let answered = 0;
    // The window opens somewhere inside the first call: before it was sent (`opened`) and before it answered
    // (`answered`). "Still inside" is judged from the earlier time, "closed" from the later, so a slow first call on
    // a busy host cannot make either check wrong.
    const opened = Date.now();
    const ids: string[] = [];
    for (let n = 1; n <= 5; n++) {
      ids.push(await jobs.enqueue('throttled', { n }, { dedupe: { key: 'acme', mode: 'throttle', ttlMs } }));
      if (n === 1) answered = Date.now();
    }
    expect(new Set(ids).size).toBe(1);
    await waitFor('the first throttled run', async () => (await jobs.getExecution(ids[0]))?.state === 'completed');
    // The window outlives the run: a call after it finished, still inside the window, is throttled too.
    expect(Date.now() - opened).toBeLessThan(ttlMs);
    const late = await jobs.enqueue('throttled', { n: 6 }, { dedupe: { key: 'acme', mode: 'throttle', ttlMs } });
    expect(late).toBe(ids[0]);
    await waitFor('the window to close', () => Date.now() - answered > ttlMs, ttlMs + 1_000);
    const next = await jobs.enqueue('throttled', { n: 7 }, { dedupe: { key: 'acme', mode: 'throttle', ttlMs } });
    expect(next).not.toBe(ids[0]);
    await waitFor('the second throttled run', async () => (await jobs.getExecution(next))?.state === 'completed');
    expect(seen.map((s) => s.data)).toEqual([{ n: 1 }, { n: 7 }]);
    expect(await count()).toBe(2);
  }, 20_000);

  it('until-finished: a call while pending or running returns the same id; a call after it completed makes a new run', async () => {
    const running = gate();
    const { jobs, seen } = await start('until-finished', () => running.wait);
    const dedupe = { key: 'report-42', mode: 'until-finished' } as const;
    const first = await jobs.enqueue('until-finished', { n: 1 }, { dedupe });
    expect(await jobs.enqueue('until-finished', { n: 2 }, { dedupe })).toBe(first);
    await waitFor('the run to start', () => seen.length === 1);
    expect(await jobs.enqueue('until-finished', { n: 3 }, { dedupe })).toBe(first);
    running.open();
    await waitFor('the run to complete', async () => (await jobs.getExecution(first))?.state === 'completed');
    const second = await jobs.enqueue('until-finished', { n: 4 }, { dedupe });
    expect(second).not.toBe(first);
    await waitFor('the new run', async () => (await jobs.getExecution(second))?.state === 'completed');
    expect(seen.map((s) => s.data)).toEqual([{ n: 1 }, { n: 4 }]);
  }, 20_000);

  it('until-started (dedupeKey): a call while pending returns the same id; once a worker took the run, a call makes a new one', async () => {
    const running = gate();
    const { jobs, seen } = await start('until-started', () => running.wait);
    const first = await jobs.enqueue('until-started', { n: 1 }, { dedupeKey: 'sync-7', delayMs: 300 });
    expect(await jobs.enqueue('until-started', { n: 2 }, { dedupe: { key: 'sync-7', mode: 'until-started' } })).toBe(
      first,
    );
    await waitFor('the run to start', () => seen.length === 1);
    // The key is released as the worker takes the run (BullMQ: one compare-and-delete right after the take).
    let second = first;
    await waitFor('a new run for the key', async () => {
      second = await jobs.enqueue('until-started', { n: 3 }, { dedupeKey: 'sync-7' });
      return second !== first;
    });
    await waitFor('the second run to start', () => seen.length === 2);
    running.open();
    await waitFor('both to complete', async () => (await jobs.getExecution(second))?.state === 'completed');
    expect(seen.map((s) => s.data)).toEqual([{ n: 1 }, { n: 3 }]);
  }, 20_000);

  it('bad dedupe input fails the call naming the job, the value and the fix; nothing is enqueued', async () => {
    const { jobs, count } = await start('dedupe-input');
    const long = 'k'.repeat(201);
    const cases: Array<[unknown, string]> = [
      [
        { key: 'a', mode: 'forever' },
        INVALID_DEDUPE(
          'dedupe-input',
          'dedupe.mode',
          'forever',
          "'until-started', 'until-finished', 'debounce' or 'throttle'",
        ),
      ],
      [
        { key: '', mode: 'until-finished' },
        INVALID_DEDUPE(
          'dedupe-input',
          'dedupe.key',
          '',
          'a non-empty string of at most 200 characters (bounds.maxDedupeKeyLength)',
        ),
      ],
      [
        { key: long, mode: 'until-finished' },
        INVALID_DEDUPE(
          'dedupe-input',
          'dedupe.key',
          long,
          'a non-empty string of at most 200 characters (bounds.maxDedupeKeyLength)',
        ),
      ],
      [
        { key: 'a', mode: 'debounce' },
        INVALID_DEDUPE('dedupe-input', 'dedupe.ttlMs', undefined, "a positive integer (ms) for mode 'debounce'"),
      ],
      [
        { key: 'a', mode: 'throttle', ttlMs: 0 },
        INVALID_DEDUPE('dedupe-input', 'dedupe.ttlMs', 0, "a positive integer (ms) for mode 'throttle'"),
      ],
      [
        { key: 'a', mode: 'until-finished', ttl: 5 },
        INVALID_DEDUPE('dedupe-input', 'dedupe.ttl', 5, 'only the keys key, mode, ttlMs'),
      ],
    ];
    for (const [dedupe, message] of cases) {
      const call = jobs.enqueue('dedupe-input', undefined, { dedupe: dedupe as any });
      await expect(call).rejects.toThrow(InvalidJobInputError);
      await expect(call).rejects.toThrow(message);
    }
    const both = jobs.enqueue('dedupe-input', undefined, {
      dedupeKey: 'a',
      dedupe: { key: 'a', mode: 'until-finished' },
    });
    await expect(both).rejects.toThrow(DEDUPE_TWICE('dedupe-input', 'a'));
    expect(await count()).toBe(0);
  });
});
