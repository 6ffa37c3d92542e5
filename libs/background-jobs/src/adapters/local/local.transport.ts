import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { CronExpressionParser } from 'cron-parser';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { DRAIN_WITHOUT_WORKER, JobAbortedError, JobExecution, JobFailure, JobState, RecurringJobInfo } from '../../contracts';
import {
  ExecutionPage,
  ExecutionQuery,
  IdentifiedRun,
  JobDefinition,
  JobRegistry,
  JobRunFailure,
  JobTransport,
  LazyAbortController,
  OutgoingRun,
  QueueDepth,
  RetryResult,
  RunHandler,
  RunInterrupted,
  RunOutcome,
  TransportHealth,
} from '../../core';
import { LocalClock, ManualClock, SYSTEM_CLOCK } from './manual-clock';

export interface LocalTransportConfig {
  worker: { concurrency: number; shutdownGraceMs: number } | false;
  /**
   * Tests (`BackgroundJobsModule.forTest`): delays, retries and cron ticks wait on this clock instead of real time,
   * and the cron ticks are computed here instead of by @nestjs/schedule's engine.
   */
  clock?: ManualClock;
}

/** One run held in memory. */
interface LocalRun {
  id: string;
  definition: JobDefinition;
  tenantId: string | null;
  data: unknown;
  fanOut: boolean;
  state: JobState;
  attemptsStarted: number;
  attemptsMade: number;
  createdAt: Date;
  dueAt: number;
  scheduledAt?: Date;
  startedAt?: Date;
  finishedAt?: Date;
  result?: unknown;
  skipReason?: string;
  failure?: JobFailure;
  progress?: number;
  logs: string[];
  dedupeKey?: string;
  timer?: unknown;
  controller?: LazyAbortController;
}

const FINAL = new Set<JobState>(['completed', 'failed', 'cancelled', 'skipped']);

/**
 * The embedded transport: the same pipeline and contract in one process, with no Redis. Recurring schedules
 * run on @nestjs/schedule's registry and cron engine; runs wait in an in-memory queue worked at the configured
 * concurrency. Nothing survives a restart.
 */
export class LocalTransport extends JobTransport {
  private readonly logger = new Logger('BackgroundJobs');
  private readonly schedules = new SchedulerRegistry();
  private readonly runs = new Map<string, LocalRun>();
  private readonly waiting: LocalRun[] = [];
  private readonly dedupe = new Map<string, string>();
  private readonly events = new EventEmitter();
  private readonly active = new Set<LocalRun>();
  private readonly finished = new Map<string, Set<string>>();
  private handler?: RunHandler;
  private registry?: JobRegistry;
  private readonly paused = new Set<string>();
  private accepting = false;
  private closing?: Promise<void>;
  private readonly clock: LocalClock;
  /** Manual-clock schedules (tests): the timer of each job's next tick, and that tick. */
  private readonly clockTicks = new Map<string, { handle: unknown; tick: number }>();
  private readonly executing = new Set<Promise<void>>();
  /** Runs finished since `drain()` began, while it runs. */
  private drained?: LocalRun[];

  constructor(private readonly config: LocalTransportConfig) {
    super();
    this.events.setMaxListeners(0);
    this.clock = config.clock ?? SYSTEM_CLOCK;
  }

  /**
   * Runs what is due until nothing waits or runs, and resolves the snapshots of the runs that finished meanwhile, in
   * the order they finished. With `delayed`, delayed runs and retries count as due (their time is not waited for);
   * without, they wait for the clock. Cron ticks are never made here: move the clock for those.
   */
  async drain(options: { delayed: boolean }): Promise<JobExecution[]> {
    if (this.config.worker === false) throw new Error(DRAIN_WITHOUT_WORKER);
    const drained: LocalRun[] = (this.drained = []);
    try {
      for (;;) {
        for (const run of options.delayed ? this.runs.values() : []) {
          if (run.state !== 'delayed') continue;
          this.clock.clearTimer(run.timer);
          run.timer = undefined;
          run.state = 'pending';
          this.waiting.push(run);
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
    this.registry = registry;
    this.handler = run;
    this.accepting = this.config.worker !== false;
    for (const definition of registry.recurring()) this.schedule(definition);
    this.pump();
  }

  async enqueue(definition: JobDefinition, run: OutgoingRun): Promise<string> {
    if (run.dedupeKey) {
      const existing = this.dedupe.get(`${definition.id}:${run.dedupeKey}`);
      if (existing) return existing;
    }
    const local = this.add(definition, randomUUID(), run.tenantId, run.data, run.fanOut === true, run.delayMs ?? 0);
    if (run.dedupeKey) {
      local.dedupeKey = `${definition.id}:${run.dedupeKey}`;
      this.dedupe.set(local.dedupeKey, local.id);
    }
    return local.id;
  }

  async enqueueMany(definition: JobDefinition, runs: IdentifiedRun[]): Promise<string[]> {
    return runs.map((run) => (this.runs.has(run.id) ? run.id : this.add(definition, run.id, run.tenantId, run.data, false, 0).id));
  }

  async getExecution(executionId: string): Promise<JobExecution | null> {
    const run = this.runs.get(executionId);
    return run ? snapshot(run) : null;
  }

  waitForFinal(executionId: string, timeoutMs: number): Promise<JobExecution> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const run = this.runs.get(executionId);
        if (run && FINAL.has(run.state)) {
          cleanup();
          resolve(snapshot(run));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error('wait-timeout'));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off(executionId, check);
      };
      this.events.on(executionId, check);
      check();
    });
  }

  async listRecurring(registry: JobRegistry): Promise<RecurringJobInfo[]> {
    return registry.recurring().map((definition) => {
      const cron = this.schedules.getCronJobs().get(definition.id);
      const clockTick = this.clockTicks.get(definition.id)?.tick;
      return {
        jobId: definition.id,
        cron: definition.cron as string,
        timezone: definition.timezone,
        queue: definition.queue,
        tenancy: definition.tenancy,
        enabled: definition.enabled,
        paused: this.paused.has(definition.id),
        nextRunAt: this.paused.has(definition.id)
          ? undefined
          : clockTick !== undefined
            ? new Date(clockTick)
            : cron?.nextDate().toJSDate(),
      };
    });
  }

  async cancel(executionId: string): Promise<boolean> {
    const run = this.runs.get(executionId);
    if (!run || FINAL.has(run.state)) return false;
    if (run.state === 'running') {
      run.controller?.abort(new JobAbortedError('cancelled', `Execution ${executionId} was cancelled on request.`));
      return true;
    }
    if (run.timer) this.clock.clearTimer(run.timer);
    const index = this.waiting.indexOf(run);
    if (index >= 0) this.waiting.splice(index, 1);
    this.finish(run, 'cancelled', { failure: { kind: 'cancelled', message: 'Cancelled before it started.' } });
    return true;
  }

  async listExecutions(query: ExecutionQuery): Promise<ExecutionPage> {
    const matches = [...this.runs.values()]
      .filter((run) => (query.jobId === undefined || run.definition.id === query.jobId))
      .filter((run) => (query.tenantId === undefined || run.tenantId === query.tenantId))
      .filter((run) => (!query.states || query.states.includes(run.state)))
      .map(snapshot)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.executionId.localeCompare(a.executionId));
    return { items: matches.slice(query.offset, query.offset + query.limit), total: matches.length, offset: query.offset, limit: query.limit };
  }

  async getExecutionLogs(executionId: string, limit: number): Promise<{ lines: string[]; count: number } | null> {
    const run = this.runs.get(executionId);
    return run ? { lines: run.logs.slice(0, limit), count: run.logs.length } : null;
  }

  async retry(executionId: string): Promise<RetryResult> {
    const run = this.runs.get(executionId);
    if (!run) return { status: 'unknown' };
    if (run.state !== 'failed') return { status: 'not-failed', state: run.state };
    Object.assign(run, { state: 'pending', attemptsMade: 0, failure: undefined, finishedAt: undefined });
    this.history(run.definition, 'failed').delete(run.id);
    this.waiting.push(run);
    this.pump();
    return { status: 'retried' };
  }

  async pause(definition: JobDefinition): Promise<void> {
    this.paused.add(definition.id);
    this.clock.clearTimer(this.clockTicks.get(definition.id)?.handle);
    this.clockTicks.delete(definition.id);
    await this.schedules.getCronJobs().get(definition.id)?.stop();
  }

  async resume(definition: JobDefinition): Promise<void> {
    this.paused.delete(definition.id);
    if (this.closing) return;
    if (this.config.clock) return this.schedule(definition);
    const cron = this.schedules.getCronJobs().get(definition.id);
    if (cron) {
      this.schedules.deleteCronJob(definition.id);
      this.schedule(definition);
    }
  }

  async queueDepths(): Promise<QueueDepth[]> {
    const depths = new Map<string, QueueDepth>();
    for (const run of this.runs.values()) {
      const name = run.definition.queue;
      const depth = depths.get(name) ?? { queue: name, waiting: 0, active: 0, delayed: 0, prioritized: 0, completed: 0, failed: 0 };
      if (run.state === 'pending') depth.waiting += 1;
      else if (run.state === 'running') depth.active += 1;
      else if (run.state === 'delayed') depth.delayed += 1;
      else if (run.state === 'completed' || run.state === 'skipped') depth.completed += 1;
      else depth.failed += 1;
      depths.set(name, depth);
    }
    return [...depths.values()];
  }

  async health(): Promise<TransportHealth> {
    return {
      store: 'memory',
      reachable: true,
      workersExpected: this.config.worker === false ? 0 : 1,
      workersRunning: this.accepting ? 1 : 0,
      queues: await this.queueDepths(),
    };
  }

  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private schedule(definition: JobDefinition): void {
    if (this.paused.has(definition.id)) return;
    if (this.config.clock) return this.scheduleOnClock(definition);
    let expected: number | undefined;
    const job = CronJob.from({
      cronTime: definition.cron as string,
      timeZone: definition.timezone,
      start: false,
      onTick: () => {
        // NOTE: the cron engine reports when it fired, not which tick: we track the tick it was due for.
        const tick = expected ?? Math.floor(Date.now() / 1000) * 1000;
        expected = job.nextDate().toMillis();
        this.tick(definition, tick);
      },
    });
    this.schedules.addCronJob(definition.id, job as unknown as CronJob<null, null>);
    job.start();
    expected = job.nextDate().toMillis();
  }

  /** Tests: the next tick from cron-parser, on the manual clock; each tick schedules the one after it. */
  private scheduleOnClock(definition: JobDefinition): void {
    const now = this.clock.now();
    const tick = CronExpressionParser.parse(definition.cron as string, { currentDate: new Date(now), tz: definition.timezone }).next().getTime();
    const handle = this.clock.setTimer(() => {
      this.tick(definition, tick);
      if (!this.closing && !this.paused.has(definition.id)) this.scheduleOnClock(definition);
    }, tick - now);
    this.clockTicks.set(definition.id, { handle, tick });
  }

  private tick(definition: JobDefinition, tick: number): void {
    const id = `repeat:${definition.id}:${tick}`;
    if (this.runs.has(id) || this.closing) return;
    this.add(definition, id, null, undefined, definition.tenancy === 'per-tenant', 0, new Date(tick));
  }

  private add(
    definition: JobDefinition,
    id: string,
    tenantId: string | null,
    data: unknown,
    fanOut: boolean,
    delayMs: number,
    scheduledAt?: Date,
  ): LocalRun {
    const now = this.clock.now();
    const run: LocalRun = {
      id,
      definition,
      tenantId,
      data,
      fanOut,
      state: delayMs > 0 ? 'delayed' : 'pending',
      attemptsStarted: 0,
      attemptsMade: 0,
      createdAt: new Date(now),
      dueAt: now + delayMs,
      logs: [],
      scheduledAt: scheduledAt ?? (delayMs > 0 ? new Date(now + delayMs) : undefined),
    };
    this.runs.set(id, run);
    if (delayMs > 0) this.delay(run, delayMs);
    else this.waiting.push(run);
    this.pump();
    return run;
  }

  private delay(run: LocalRun, ms: number): void {
    run.state = 'delayed';
    run.dueAt = this.clock.now() + ms;
    run.timer = this.clock.setTimer(() => {
      run.timer = undefined;
      run.state = 'pending';
      this.waiting.push(run);
      this.pump();
    }, ms);
  }

  private pump(): void {
    if (!this.accepting || !this.handler || this.config.worker === false) return;
    while (this.active.size < this.config.worker.concurrency && this.waiting.length > 0) {
      const run = this.waiting.shift() as LocalRun;
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
    run.controller = new LazyAbortController();
    this.events.emit(run.id);
    let outcome: RunOutcome | undefined;
    let error: unknown;
    try {
      outcome = await handler(run.definition, {
        executionId: run.id,
        attempt: run.attemptsMade + 1,
        tenantId: run.tenantId,
        data: run.data,
        scheduledAt: run.scheduledAt,
        controller: run.controller,
        fanOut: run.fanOut,
        reportProgress: async (percent, message) => {
          run.progress = percent;
          if (message) run.logs.push(message);
        },
        log: async (message) => {
          run.logs.push(message);
        },
      });
    } catch (thrown) {
      error = thrown;
    } finally {
      this.active.delete(run);
      run.controller = undefined;
    }
    if (outcome) {
      if (outcome.status === 'skipped') this.finish(run, 'skipped', { skipReason: outcome.reason });
      else this.finish(run, 'completed', { result: outcome.value });
    } else if (error instanceof RunInterrupted) {
      // NOTE: in one process nobody else can take it over; it waits here until this instance goes away.
      run.state = 'pending';
      this.waiting.unshift(run);
    } else {
      run.attemptsMade += 1;
      const failure =
        error instanceof JobRunFailure ? { kind: error.kind, message: error.message } : { kind: 'transient' as const, message: String(error) };
      run.failure = failure;
      const retry = !(error instanceof JobRunFailure) || error.retry;
      if (retry && run.attemptsMade < run.definition.retry.attempts && !this.closing) {
        this.delay(run, run.definition.retry.backoffMs * 2 ** (run.attemptsMade - 1));
        this.events.emit(run.id);
      } else {
        this.finish(run, failure.kind === 'cancelled' ? 'cancelled' : 'failed', { failure });
      }
    }
    this.pump();
  }

  private finish(run: LocalRun, state: JobState, fields: Partial<LocalRun>): void {
    if (state === 'completed' || state === 'skipped') run.attemptsMade += 1;
    Object.assign(run, fields, { state, finishedAt: new Date(this.clock.now()) });
    this.drained?.push(run);
    if (state === 'completed') run.failure = undefined;
    if (run.dedupeKey) this.dedupe.delete(run.dedupeKey);
    this.events.emit(run.id);
    this.prune(run, state === 'failed' || state === 'cancelled' ? 'failed' : 'completed');
  }

  /** Ids of a job's finished runs of one kind, oldest finish first: what history retention trims. */
  private history(definition: JobDefinition, kind: 'completed' | 'failed'): Set<string> {
    const key = `${definition.id}\u0000${kind}`;
    let ids = this.finished.get(key);
    if (!ids) this.finished.set(key, (ids = new Set()));
    return ids;
  }

  /**
   * History retention, as BullMQ's removeOnComplete / removeOnFail would apply it: keep the newest `count`
   * finished runs of that kind, none older than `maxAgeSeconds`.
   */
  private prune(run: LocalRun, kind: 'completed' | 'failed'): void {
    // NOTE: trims from the oldest end of an insertion-ordered set: O(1) per finished run. Scanning every run held
    // in memory on each finish made a backlog of N runs cost O(N²) (bench/README.md).
    const ids = this.history(run.definition, kind);
    ids.delete(run.id);
    ids.add(run.id);
    const keep = run.definition.history[kind];
    const oldest = this.clock.now() - keep.maxAgeSeconds * 1000;
    for (const id of ids) {
      const finishedAt = this.runs.get(id)?.finishedAt?.getTime() ?? 0;
      if (ids.size <= keep.count && finishedAt >= oldest) break;
      ids.delete(id);
      this.runs.delete(id);
    }
  }

  private async closeAll(): Promise<void> {
    for (const name of this.schedules.getCronJobs().keys()) {
      try {
        await this.schedules.getCronJob(name).stop();
        this.schedules.deleteCronJob(name);
      } catch (error) {
        this.logger.error(`Closing: stopping schedule "${name}" failed: ${(error as Error).message}`);
      }
    }
    this.accepting = false;
    const grace = this.config.worker ? this.config.worker.shutdownGraceMs : 0;
    const deadline = Date.now() + grace;
    while (this.active.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const run of this.active) {
      run.controller?.abort(new JobAbortedError('shutdown', `Instance shutting down: execution ${run.id} interrupted after a ${grace} ms grace period.`));
    }
    const hardDeadline = Date.now() + 1_500;
    while (this.active.size > 0 && Date.now() < hardDeadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const run of this.runs.values()) if (run.timer) this.clock.clearTimer(run.timer);
    for (const { handle } of this.clockTicks.values()) this.clock.clearTimer(handle);
    if (this.waiting.length > 0) {
      this.logger.warn(`Closing: ${this.waiting.length} run(s) not started are dropped (the embedded transport keeps nothing across restarts).`);
    }
  }
}

function snapshot(run: LocalRun): JobExecution {
  const execution: JobExecution = {
    executionId: run.id,
    jobId: run.definition.id,
    tenantId: run.tenantId,
    state: run.state,
    attempts: run.attemptsStarted,
    data: run.data,
    createdAt: run.createdAt,
  };
  if (run.state === 'completed') execution.result = run.result;
  if (run.state === 'skipped') execution.skipReason = run.skipReason;
  if (run.state === 'failed' || run.state === 'cancelled') execution.failure = run.failure;
  if (run.progress !== undefined) execution.progress = run.progress;
  if (run.startedAt) execution.startedAt = run.startedAt;
  if (run.finishedAt) execution.finishedAt = run.finishedAt;
  if (run.scheduledAt) execution.scheduledAt = run.scheduledAt;
  return execution;
}
