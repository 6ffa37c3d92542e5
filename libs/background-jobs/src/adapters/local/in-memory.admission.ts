import { Logger } from '@nestjs/common';
import { LimitOverride } from '../../contracts';
import { Admission, AdmissionCheck, AdmissionStore, waitingOf, WakeRun } from '../../core';

/** A parked run: where it waits and who it is. */
interface Parked {
  queue: string;
  executionId: string;
}

/**
 * The embedded transport's admission store: the Redis store's semantics in this process's memory (rate logs of start
 * times per key, slots per key, runs parked per key and woken in order when a slot frees, holds, overrides).
 */
export class InMemoryAdmission extends AdmissionStore {
  private readonly logger = new Logger('BackgroundJobs');
  private readonly starts = new Map<string, number[]>();
  private readonly slots = new Map<string, Set<string>>();
  private readonly parked = new Map<string, Parked[]>();
  /** Runs deferred by a rate check, per check id: their number spreads their wake times over the coming windows. */
  private readonly rateWaiting = new Map<string, Set<string>>();
  private readonly holds = new Map<string, number>();
  private readonly overrides = new Map<string, LimitOverride>();
  private wake?: WakeRun;

  constructor(private readonly now: () => number) {
    super();
  }

  wakeWith(wake: WakeRun): void {
    this.wake = wake;
  }

  async admit(executionId: string, _queue: string, checks: AdmissionCheck[]): Promise<Admission> {
    const now = this.now();
    for (const check of checks) {
      const held = this.holds.get(check.id);
      if (held !== undefined && held > now) return this.refuse(check, held);
      const { max, durationMs } = this.effective(check);
      if (check.kind === 'rate') {
        const log = this.window(check.id, now, durationMs as number);
        if (log.length >= max) {
          return this.refuse(check, this.rateWake(check.id, executionId, log, max, durationMs as number));
        }
      } else if ((this.slots.get(check.id)?.size ?? 0) >= max) {
        return { admitted: false, refused: check, waiting: waitingOf(check) };
      }
    }
    const taken: string[] = [];
    for (const check of checks) {
      this.rateWaiting.get(check.id)?.delete(executionId);
      if (check.kind === 'rate') this.window(check.id, now, this.effective(check).durationMs as number).push(now);
      else {
        let slots = this.slots.get(check.id);
        if (!slots) this.slots.set(check.id, (slots = new Set()));
        slots.add(executionId);
        taken.push(check.id);
      }
    }
    if (taken.length === 0) return { admitted: true, permit: undefined };
    return { admitted: true, permit: { release: async () => taken.forEach((id) => this.free(id, executionId)) } };
  }

  async park(executionId: string, queue: string, check: AdmissionCheck): Promise<void> {
    let parked = this.parked.get(check.id);
    if (!parked) this.parked.set(check.id, (parked = []));
    parked.push({ queue, executionId });
    this.wakeParked(check.id, this.effective(check).max);
  }

  async holdBack(checks: AdmissionCheck[], ms: number): Promise<void> {
    const until = this.now() + ms;
    for (const check of checks) this.holds.set(check.id, Math.max(until, this.holds.get(check.id) ?? 0));
  }

  async setOverride(id: string, override: LimitOverride | null): Promise<void> {
    if (override) this.overrides.set(id, override);
    else this.overrides.delete(id);
  }

  private effective(check: AdmissionCheck): { max: number; durationMs?: number } {
    const override = this.overrides.get(check.id);
    if (check.kind === 'rate' && override?.rateLimit) return override.rateLimit;
    if (check.kind === 'concurrency' && override?.concurrency) return override.concurrency;
    return { max: check.max, durationMs: check.durationMs };
  }

  /** The key's start times inside the window ending now, oldest first (older ones dropped). */
  private window(id: string, now: number, durationMs: number): number[] {
    const log = (this.starts.get(id) ?? []).filter((at) => at > now - durationMs);
    this.starts.set(id, log);
    return log;
  }

  /**
   * When the n-th run waiting on a full rate window should try again: the window's starts repeat every `durationMs`,
   * so place n opens when start (count - max + n mod max) leaves the window, n div max windows later.
   */
  private rateWake(id: string, executionId: string, log: number[], max: number, durationMs: number): number {
    let waiting = this.rateWaiting.get(id);
    if (!waiting) this.rateWaiting.set(id, (waiting = new Set()));
    waiting.add(executionId);
    const n = [...waiting].indexOf(executionId);
    const first = Math.max(0, log.length - max + (n % max));
    return log[first] + durationMs * (Math.floor(n / max) + 1) + 1;
  }

  private refuse(check: AdmissionCheck, until: number): Admission {
    return { admitted: false, refused: check, waiting: waitingOf(check, new Date(until)) };
  }

  private free(id: string, executionId: string): void {
    const slots = this.slots.get(id);
    if (!slots?.delete(executionId)) return;
    if (slots.size === 0) this.slots.delete(id);
    const override = this.overrides.get(id)?.concurrency;
    this.wakeParked(id, override?.max ?? this.maxOf.get(id) ?? 1);
  }

  private readonly maxOf = new Map<string, number>();

  private wakeParked(id: string, max: number): void {
    this.maxOf.set(id, max);
    const parked = this.parked.get(id);
    let room = max - (this.slots.get(id)?.size ?? 0);
    while (parked && parked.length > 0 && room > 0) {
      const run = parked.shift() as Parked;
      room -= 1;
      this.wake?.(run.queue, run.executionId).catch((error: Error) =>
        this.logger.warn(`Waking parked run ${run.executionId} failed: ${error.message}`),
      );
    }
    if (parked?.length === 0) this.parked.delete(id);
  }
}
