import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { LimitOverride } from '../../contracts';
import { Admission, AdmissionCheck, AdmissionPermit, AdmissionStore, waitingOf, WakeRun } from '../../core';
import { ADMIT, RENEW_SLOTS, SETTLE } from './bullmq-scripts';
import { LEASE_MIN_MAX, LEASE_MS, RateCredits } from './rate-credits';
import { RedisClient } from './redis-connection';

type AdmissionCommands = RedisClient & {
  bgjAdmit(base: string, ...args: Array<string | number>): Promise<number[]>;
  bgjSettle(base: string, op: string, id: string, max: number, member: string, wokenTtl: number): Promise<string[]>;
  bgjRenew(base: string, executionId: string, ttlMs: number, ...ids: string[]): Promise<number>;
};

/** Where a run parks: its queue and id, joined by '|' (no queue name holds one). */
const memberOf = (queue: string, executionId: string): string => `${queue}|${executionId}`;

/** Most runs one admit-1.lua call judges; more asked for in one tick go in further calls. */
const MAX_ADMITS = 128;

/** The admissions asked for in one tick, sent as one script call. */
interface AdmitBatch {
  args: Array<string | number>;
  /** When the call was sent (RateCredits' clock): a lease it brings back may be given out until LEASE_MS after. */
  sentAt: number;
  runs: Array<{
    executionId: string;
    checks: readonly AdmissionCheck[];
    /** Starts asked for beyond its own (a lease), answered when the call returns or fails. */
    want: number;
    resolve: (admission: Admission) => void;
    reject: (error: Error) => void;
  }>;
}

/**
 * Admission on Redis for the BullMQ transport, in three scripts over keys of one hash slot (`base`): `admit-1.lua`
 * (every check of each run asked for in one tick, all or nothing per run, on Redis time: sliding-window logs for rate
 * limits, self-expiring slots for concurrency; leases of rate-limit starts, RateCredits), `settle-1.lua` (park,
 * release, sweep: wakes parked runs when a slot frees) and `renew-1.lua` (a running run's slots live `slotTtlMs` past
 * its last renewal, so a killed instance's slots free within that). A rate-limited run parks as a BullMQ delayed job
 * until its window opens: nothing has to wake it. See docs/flow-control.md.
 */
export class BullmqAdmission extends AdmissionStore {
  private readonly logger = new Logger('BackgroundJobs');
  private readonly defined = new WeakSet<RedisClient>();
  private wake?: WakeRun;
  private batch?: AdmitBatch;
  private readonly credits = new RateCredits();
  private sweeper?: ReturnType<typeof setInterval>;
  /** Ids of the leases asked for ahead (they name their starts in the rate logs): this process's prefix and a count. */
  private readonly leaseIds = `lease:${randomUUID()}:`;
  private leasesAsked = 0;

  constructor(
    private readonly redis: () => RedisClient,
    private readonly base: string,
    private readonly slotTtlMs: number,
  ) {
    super();
  }

  wakeWith(wake: WakeRun): void {
    this.wake = wake;
  }

  /** Every `intervalMs`, settles every check with parked runs: frees the slots of dead instances and wakes runs. */
  startSweeping(intervalMs: number): void {
    this.sweeper ??= setInterval(() => {
      this.settle('sweep', '', 0, '').catch((e: Error) => this.logger.warn(`Admission sweep failed: ${e.message}`));
    }, intervalMs);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /**
   * The admissions of concurrent runs asked for in one tick go as one admit-1.lua call, judged in the order asked (as
   * one call each would be): one command, one write and one reply for all of them. A run whose checks are all rate
   * limits of at least LEASE_MIN_MAX asks for a lease of starts for the runs after it (RateCredits), which
   * `admitAtOnce`, asked first, gives out with no call. A failed
   * call fails each admission in it, as its own call would have failed. (One call per run was most of what a rate
   * limit far above the throughput cost per run: bench/README.md, `rate-limit`.)
   */
  admit(executionId: string, queue: string, checks: AdmissionCheck[]): Promise<Admission> {
    const want = RateCredits.leasable(checks) ? this.credits.wanted(checks) : 0;
    return new Promise<Admission>((resolve, reject) =>
      this.ask({ executionId, member: memberOf(queue, executionId), checks, want, resolve, reject }),
    );
  }

  /** A leased start of every check, taken with no call (RateCredits); false when one has none (or is not leasable). */
  override admitAtOnce(checks: readonly AdmissionCheck[]): boolean {
    return RateCredits.leasable(checks) && this.takeLeased(checks);
  }

  /** Takes a leased start of each check; when that leaves a lease half given out, asks for the next one ahead. */
  private takeLeased(checks: readonly AdmissionCheck[]): boolean {
    if (!this.credits.take(checks)) return false;
    const want = this.credits.refill(checks);
    if (want > 0) {
      const executionId = `${this.leaseIds}${++this.leasesAsked}`;
      const ignore = (): void => undefined;
      this.ask({ executionId, member: '', checks, want, resolve: ignore, reject: ignore });
    }
    return true;
  }

  /** Adds an admission (or a lease asked for ahead, `member` empty) to this tick's admit-1.lua call. */
  private ask(run: AdmitBatch['runs'][number] & { member: string }): void {
    let batch = this.batch;
    if (!batch) {
      const fresh: AdmitBatch = { args: [this.slotTtlMs, 0, LEASE_MS, LEASE_MIN_MAX], sentAt: 0, runs: [] };
      this.batch = batch = fresh;
      process.nextTick(() => this.sendAdmits(fresh));
    }
    const { executionId, member, checks, want, resolve, reject } = run;
    batch.args.push(executionId, member, want, checks.length);
    for (const check of checks)
      batch.args.push(check.id, check.kind === 'rate' ? 'r' : 'c', check.max, check.durationMs ?? 0);
    batch.runs.push({ executionId, checks, want, resolve, reject });
    if (batch.runs.length >= MAX_ADMITS) this.sendAdmits(batch);
  }

  private sendAdmits(batch: AdmitBatch): void {
    if (this.batch === batch) this.batch = undefined;
    else if (batch.args[1] !== 0) return; // NOTE: sent already, when it filled up.
    batch.args[1] = batch.runs.length;
    batch.sentAt = this.credits.stamp();
    // NOTE: from a tick of its own: a client that throws rejects the admissions instead of the process.
    Promise.resolve()
      .then(() => this.client().bgjAdmit(this.base, ...batch.args))
      .then(
        (replies) =>
          batch.runs.forEach((run, i) => {
            try {
              run.resolve(this.admission(batch, run, replies, i * 5));
            } catch (error) {
              run.reject(error as Error);
            }
          }),
        (error: Error) =>
          batch.runs.forEach((run) => {
            if (run.want > 0) this.credits.answered(run.checks);
            run.reject(error);
          }),
      );
  }

  private admission(batch: AdmitBatch, run: AdmitBatch['runs'][number], replies: number[], at: number): Admission {
    const { executionId, checks } = run;
    if (run.want > 0) this.credits.answered(checks);
    const [admitted, index, wake, leased, leaseMs] = replies.slice(at, at + 5);
    if (admitted === 1) {
      this.credits.keep(checks, leased, batch.sentAt, leaseMs);
      const held = checks.filter((check) => check.kind === 'concurrency');
      return { admitted: true, permit: held.length > 0 ? this.permit(executionId, held) : undefined };
    }
    const refused = checks[index - 1];
    return { admitted: false, refused, waiting: waitingOf(refused, wake > 0 ? new Date(wake) : undefined) };
  }

  async park(executionId: string, queue: string, check: AdmissionCheck): Promise<void> {
    await this.settle('park', check.id, check.max, memberOf(queue, executionId));
  }

  /** Whether a parked run was woken already (a slot freed while its job was still being delayed). */
  async wokenAlready(executionId: string, queue: string, check: AdmissionCheck): Promise<boolean> {
    return (await this.client().zscore(`${this.base}:w:${check.id}`, memberOf(queue, executionId))) !== null;
  }

  // NOTE: leases are dropped before the write and again once Redis has it: an admission sent meanwhile (its call may
  // overtake the write, which is auto-pipelined) could bring back a lease granted under the old state.
  async holdBack(checks: AdmissionCheck[], ms: number): Promise<void> {
    const ids = [...new Set(checks.map((c) => c.id))];
    ids.forEach((id) => this.credits.drop(id));
    const redis = this.client();
    await Promise.all(ids.map((id) => redis.set(`${this.base}:h:${id}`, '1', 'PX', ms)));
    ids.forEach((id) => this.credits.drop(id));
  }

  async setOverride(id: string, override: LimitOverride | null): Promise<void> {
    this.credits.drop(id);
    if (!override) {
      await this.client().hdel(`${this.base}:o`, id);
      this.credits.drop(id);
      return;
    }
    const { rateLimit, concurrency } = override;
    const value = `${rateLimit?.max ?? ''},${rateLimit?.durationMs ?? ''},${concurrency?.max ?? ''}`;
    await this.client().hset(`${this.base}:o`, id, value);
    this.credits.drop(id);
    // NOTE: a raised concurrency limit has room at once: wake the runs parked on it now.
    await this.settle('sweep', '', 0, '');
  }

  private permit(executionId: string, held: AdmissionCheck[]): AdmissionPermit {
    const ids = held.map((check) => check.id);
    const timer = setInterval(() => {
      this.client()
        .bgjRenew(this.base, executionId, this.slotTtlMs, ...ids)
        .catch((e: Error) => this.logger.warn(`Renewing the slots of ${executionId} failed: ${e.message}`));
    }, this.slotTtlMs / 3);
    timer.unref();
    return {
      release: () => {
        clearInterval(timer);
        return Promise.all(held.map((check) => this.settle('release', check.id, check.max, executionId))).then(
          () => undefined,
          (e: Error) => this.logger.warn(`Releasing the slots of ${executionId} failed (they expire): ${e.message}`),
        );
      },
    };
  }

  /** Runs settle-1.lua and wakes what it returns; a run found gone is dropped from its line (which wakes the next). */
  private async settle(op: string, id: string, max: number, member: string): Promise<void> {
    const woken = await this.client().bgjSettle(this.base, op, id, max, member, this.slotTtlMs);
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < woken.length; i += 2) pairs.push([woken[i], woken[i + 1]]);
    await Promise.all(
      pairs.map(async ([check, parked]) => {
        const split = parked.indexOf('|');
        const [queue, executionId] = [parked.slice(0, split), parked.slice(split + 1)];
        const alive = await (this.wake?.(queue, executionId) ?? Promise.resolve(true)).catch((e: Error) => {
          this.logger.warn(`Waking parked run ${executionId} failed (woken again later): ${e.message}`);
          return true;
        });
        if (!alive) await this.settle('drop', check, max, parked);
      }),
    );
  }

  private client(): AdmissionCommands {
    const redis = this.redis();
    if (!this.defined.has(redis)) {
      redis.defineCommand(ADMIT.name, ADMIT);
      redis.defineCommand(SETTLE.name, SETTLE);
      redis.defineCommand(RENEW_SLOTS.name, RENEW_SLOTS);
      this.defined.add(redis);
    }
    return redis as AdmissionCommands;
  }
}
