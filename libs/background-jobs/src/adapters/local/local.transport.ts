import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  CANCELLED_BEFORE_START,
  CANCELLED_ON_REQUEST,
  DRAIN_WITHOUT_WORKER,
  InvalidJobInputError,
  isFinalState,
  JobAbortedError,
  JobExecution,
  SHUTDOWN_INTERRUPTED,
} from '../../contracts';
import {
  IdentifiedRun,
  JobDefinition,
  JobRegistry,
  JobRunFailure,
  LazyAbortController,
  OutgoingRun,
  RunHandler,
  RunInterrupted,
  RunOutcome,
  RunQueue,
  recordedFailure,
  retryDelayMs,
  TransportHealth,
} from '../../core';
import { LocalBatches } from './local-batches';
import { LocalExecutionsStore } from './local-executions.store';
import { InMemoryAdmission } from './in-memory.admission';
import { LocalDedupe } from './local-dedupe';
import { LocalParking } from './local-parking';
import { LocalRun, requestOf, snapshot } from './local-run';
import { LocalSchedules } from './local-schedules';
import { LocalWaitingLine } from './local-waiting-line';
import { LocalClock, ManualClock, SYSTEM_CLOCK } from './manual-clock';

/** What a new run is made of, besides its definition, id and delay. */
type NewRunFields = Pick<LocalRun, 'tenantId' | 'data' | 'kind'> & Partial<Omit<LocalRun, 'id' | 'definition'>>;

export interface LocalTransportConfig {
  worker: { concurrency: number; shutdownGraceMs: number } | false;
  /**
   * Tests (`BackgroundJobsModule.forTest`): delays, retries and cron ticks wait on this clock instead of real time,
   * and the cron ticks are computed by cron-parser instead of @nestjs/schedule's engine.
   */
  clock?: ManualClock;
}

/**
 * The embedded transport: the same pipeline and contract in one process, with no Redis. Recurring schedules
 * run on @nestjs/schedule's registry and cron engine (`schedules`); runs wait in an in-memory queue worked at the
 * configured concurrency (this class) and are read from `executions`. Nothing survives a restart.
 */
export class LocalTransport extends RunQueue {
  private readonly logger = new Logger('BackgroundJobs');
  readonly executions: LocalExecutionsStore;
  readonly schedules: LocalSchedules;
  readonly batches: LocalBatches;
  private readonly clock: LocalClock;
  private readonly executing = new Set<Promise<void>>();
  /** Runs finished since `drain()` began, while it runs. */
  private drained?: LocalRun[];
  private readonly line = new LocalWaitingLine();
  private readonly parking: LocalParking;
  /** Admission (rate limits, concurrency keys): the runs it holds back wait in `parking` until it wakes them. */
  readonly admission: InMemoryAdmission;
  private readonly dedupe: LocalDedupe;
  readonly dependencies: LocalParking['dependencies'];
  private readonly active = new Set<LocalRun>();
  private handler?: RunHandler;
  private accepting = false;
  private closing?: Promise<void>;

  constructor(private readonly config: LocalTransportConfig) {
    super();
    this.clock = config.clock ?? SYSTEM_CLOCK;
    this.batches = new LocalBatches(this.clock);
    const ready = (run: LocalRun): boolean => {
      if (this.closing) return false;
      this.line.push(run);
      this.pump();
      return true;
    };
    this.executions = new LocalExecutionsStore(ready, this.clock);
    this.parking = new LocalParking(this.clock, this.executions.runs, ready, (run) => this.executions.changed(run));
    this.admission = this.parking.admission;
    this.dedupe = new LocalDedupe(this.clock, this.executions.runs, this.parking);
    this.dependencies = this.parking.dependencies;
    this.schedules = new LocalSchedules((definition, schedule, tick) => {
      const id = `repeat:${schedule.id}:${tick}`;
      if (this.executions.runs.has(id) || this.closing) return;
      const kind = definition.tenancy === 'per-tenant' && schedule.tenantId === null ? 'fan-out-tick' : 'tick';
      // NOTE: marked inside add(): add() may start the run at once, and the pipeline reads its kind as it starts.
      const { tenantId, data, cron, everyMs, timezone, misfire, misfireThresholdMs, endDate } = schedule;
      const runSchedule = { id: schedule.id, cron, everyMs, timezone, misfire, misfireThresholdMs, endDate };
      this.add(definition, id, { tenantId, data, kind, scheduledAt: new Date(tick), schedule: runSchedule });
    }, config.clock);
  }

  /**
   * Runs what is due until nothing waits or runs, and resolves the snapshots of the runs that finished meanwhile, in
   * the order they finished. With `delayed`, delayed runs and retries count as due (their time is not waited for);
   * without, they wait for the clock. Cron ticks are never made here: move the clock for those.
   */
  async drain(options: { delayed: boolean }): Promise<JobExecution[]> {
    if (this.config.worker === false) throw new InvalidJobInputError(DRAIN_WITHOUT_WORKER);
    const drained: LocalRun[] = (this.drained = []);
    try {
      for (;;) {
        for (const run of options.delayed ? this.executions.runs.values() : []) {
          // NOTE: a run admission holds back stays parked: draining does not lift limits.
          if (run.state !== 'delayed' || run.waiting) continue;
          this.clock.clearTimer(run.timer);
          run.timer = undefined;
          run.state = 'pending';
          this.line.push(run);
        }
        this.pump();
        if (this.executing.size === 0) break;
        await Promise.all(this.executing);
      }
    } finally {
      this.drained = undefined;
    }
    return drained.map(snapshot);
  }

  async start(registry: JobRegistry, run: RunHandler): Promise<void> {
    this.line.use(registry);
    this.handler = run;
    this.accepting = this.config.worker !== false;
    this.executions.describeWorkers(this.config.worker, registry.queues(), this.active);
    this.pump();
  }

  async enqueue(definition: JobDefinition, run: OutgoingRun): Promise<string> {
    const { dedupe } = run;
    const existing = dedupe && this.dedupe.answer(definition.id, dedupe, run.data, run.delayMs);
    if (existing) return existing;
    const id = randomUUID();
    // NOTE: held before add(): add() may start the run at once, which frees an until-started key.
    if (dedupe) this.dedupe.hold(definition.id, dedupe, id);
    const { tenantId, data, priority } = run;
    const fields = { tenantId, data, kind: run.kind ?? 'plain', priority } as const;
    return this.add(definition, id, fields, this.dedupe.delayOf(dedupe, run.delayMs)).id;
  }

  async enqueueMany(definition: JobDefinition, runs: IdentifiedRun[]): Promise<string[]> {
    const held = this.executions.runs;
    return runs.map(({ id, delayMs, ...run }) =>
      held.has(id) ? id : this.add(definition, id, { ...run, kind: run.kind ?? 'plain' }, delayMs).id,
    );
  }

  async cancel(executionId: string): Promise<boolean> {
    const run = this.executions.runs.get(executionId);
    if (!run || isFinalState(run.state)) return false;
    if (run.state === 'running') {
      run.controller?.abort(new JobAbortedError('cancelled', CANCELLED_ON_REQUEST(executionId)));
      return true;
    }
    if (run.timer) this.clock.clearTimer(run.timer);
    this.line.remove(run);
    this.finish(run, 'cancelled', { failure: { kind: 'cancelled', message: CANCELLED_BEFORE_START } });
    return true;
  }

  async setTenantWeight(queue: string, tenantId: string | null, weight: number | null): Promise<void> {
    this.line.setWeight(queue, tenantId, weight);
  }

  async health(): Promise<TransportHealth> {
    return {
      store: 'memory',
      reachable: true,
      workersExpected: this.config.worker === false ? 0 : 1,
      workersRunning: this.accepting ? 1 : 0,
      queues: await this.executions.queueDepths(),
    };
  }

  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  /** A new run of `definition`, queued (or delayed, or first in line for a tick) and started when a slot is free. */
  private add(definition: JobDefinition, id: string, fields: NewRunFields, delayMs = 0): LocalRun {
    const now = this.clock.now();
    const run: LocalRun = {
      id,
      definition,
      ...fields,
      state: delayMs > 0 ? 'delayed' : 'pending',
      attemptsStarted: 0,
      attemptsMade: 0,
      createdAt: new Date(now),
      dueAt: now + delayMs,
      logs: [],
      scheduledAt: fields.scheduledAt ?? (delayMs > 0 ? new Date(now + delayMs) : undefined),
    };
    this.executions.runs.set(id, run);
    if (delayMs > 0) this.parking.delay(run, delayMs);
    else if (fields.schedule) this.line.pushTick(run);
    else this.line.push(run);
    this.pump();
    return run;
  }

  private pump(): void {
    if (!this.accepting || !this.handler || this.config.worker === false) return;
    while (this.active.size < this.config.worker.concurrency) {
      const run = this.line.take();
      if (!run) return;
      const executing = this.execute(run).finally(() => this.executing.delete(executing));
      this.executing.add(executing);
    }
  }

  private async execute(run: LocalRun): Promise<void> {
    const handler = this.handler as RunHandler;
    this.active.add(run);
    run.state = 'running';
    run.attemptsStarted += 1;
    run.startedAt = new Date(this.clock.now());
    this.dedupe.started(run.id);
    run.controller = new LazyAbortController();
    this.executions.changed(run);
    let outcome: RunOutcome | undefined;
    let error: unknown;
    try {
      outcome = await handler(run.definition, requestOf(run, run.controller));
    } catch (thrown) {
      error = thrown;
    } finally {
      this.active.delete(run);
      run.controller = undefined;
    }
    if (outcome?.status === 'deferred') {
      // NOTE: not an attempt: the run did not start (or threw RateLimitedError), so its count is given back.
      run.attemptsStarted -= 1;
      this.parking.defer(run, outcome);
    } else if (outcome) {
      run.waiting = undefined;
      if (outcome.status === 'skipped') this.finish(run, 'skipped', { skipReason: outcome.reason });
      else this.finish(run, 'completed', { result: outcome.value });
    } else if (error instanceof RunInterrupted) {
      // NOTE: in one process nobody else can take it over; it waits here until this instance goes away.
      run.state = 'pending';
      this.line.push(run, true);
    } else {
      run.attemptsMade += 1;
      const failure =
        error instanceof JobRunFailure
          ? recordedFailure(error)
          : { kind: 'transient' as const, message: String(error) };
      run.failure = failure;
      const retry = !(error instanceof JobRunFailure) || error.retry;
      if (retry && run.attemptsMade < run.definition.retry.attempts && !this.closing) {
        this.parking.delay(run, retryDelayMs(run.definition.retry, run.attemptsMade));
        this.executions.changed(run);
      } else {
        this.finish(run, failure.kind === 'cancelled' ? 'cancelled' : 'failed', { failure });
      }
    }
    this.pump();
  }

  private finish(run: LocalRun, state: LocalRun['state'], fields: Partial<LocalRun>): void {
    this.dedupe.ended(run.id);
    this.executions.finish(run, state, fields);
    void this.dependencies.ended(run.id);
    this.drained?.push(run);
  }

  private async closeAll(): Promise<void> {
    this.batches.stop();
    await this.schedules.stop();
    this.accepting = false;
    const grace = this.config.worker ? this.config.worker.shutdownGraceMs : 0;
    const deadline = Date.now() + grace;
    while (this.active.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const run of this.active)
      run.controller?.abort(new JobAbortedError('shutdown', SHUTDOWN_INTERRUPTED(run.id, grace)));
    const hardDeadline = Date.now() + 1_500;
    while (this.active.size > 0 && Date.now() < hardDeadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const run of this.executions.runs.values()) if (run.timer) this.clock.clearTimer(run.timer);
    const dropped = this.line.size;
    if (dropped > 0) {
      this.logger.warn(
        `Closing: ${dropped} run(s) not started are dropped (the embedded transport keeps nothing across restarts).`,
      );
    }
  }
}
