import { Logger } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { CronExpressionParser } from 'cron-parser';
import { LOCAL_SCHEDULES_NOT_LOADED, RecurringJobInfo, TransportNotReadyError } from '../../contracts';
import {
  decoratorSchedule,
  JobDefinition,
  JobRegistry,
  loadOptionalPeer,
  recurringInfo,
  ScheduleSpec,
  ScheduleStore,
} from '../../core';

const SCHEDULE_PEER = {
  pkg: '@nestjs/schedule',
  feature: "The embedded transport (transport: { type: 'local' })",
  install: 'npm install @nestjs/schedule@^6 (NestJS 11) or @nestjs/schedule@^12 (NestJS 12).',
};
import { ManualClock } from './manual-clock';

/** Called on each tick with the tick it was due for (ms): the run queue adds the run. */
export type TickHandler = (definition: JobDefinition, schedule: ScheduleSpec, tick: number) => void;

/** A schedule of this process with its running timer. */
interface LocalSchedule {
  definition: JobDefinition;
  spec: ScheduleSpec;
  next?: number;
  cancel?: () => void;
}

/**
 * The embedded transport's schedules: cron ones on @nestjs/schedule's registry and cron engine, interval ones on
 * timers, both held to their start and end dates. Runtime schedules and pauses live in this process only; there
 * is nothing to heal (nothing outlives the process).
 */
export class LocalSchedules extends ScheduleStore {
  private readonly logger = new Logger('BackgroundJobs');
  // NOTE: @nestjs/schedule is an optional peer (BullMQ-only apps need not install it): loaded by reconcile(), which
  // start() calls first; until then there is no schedule to read.
  private registry?: SchedulerRegistry;
  private readonly running = new Map<string, LocalSchedule>();
  private readonly runtimeSpecs = new Map<string, { definition: JobDefinition; spec: ScheduleSpec }>();
  private readonly paused = new Set<string>();
  private readonly lastRunIds = new Map<string, string>();
  private stopped = false;
  private readonly startedAt: number;

  /** @param clock tests (`forTest()`): ticks computed here (cron-parser for cron) and fired by this clock, not @nestjs/schedule or timers. */
  constructor(
    private readonly onTick: TickHandler,
    private readonly clock?: ManualClock,
  ) {
    super();
    this.startedAt = clock ? clock.now() : Date.now();
  }

  async reconcile(registry: JobRegistry): Promise<void> {
    if (!this.registry) {
      const { SchedulerRegistry } = await loadOptionalPeer(SCHEDULE_PEER, () => import('@nestjs/schedule'));
      this.registry ??= new SchedulerRegistry();
    }
    for (const definition of registry.recurring()) {
      if (!this.running.has(definition.id)) this.start(definition, decoratorSchedule(definition));
    }
  }

  async listRecurring(registry: JobRegistry): Promise<RecurringJobInfo[]> {
    const decorator = registry.recurring().map((definition) => ({ definition, spec: decoratorSchedule(definition) }));
    return [...decorator, ...this.runtimeSpecs.values()].map(({ definition, spec }) => {
      const paused = this.paused.has(spec.id);
      const next = paused ? undefined : this.running.get(spec.id)?.next;
      return recurringInfo(definition, spec, paused, next !== undefined ? new Date(next) : undefined);
    });
  }

  async upsert(definition: JobDefinition, spec: ScheduleSpec): Promise<RecurringJobInfo> {
    this.runtimeSpecs.set(spec.id, { definition, spec });
    this.cancel(spec.id);
    this.start(definition, spec);
    const next = this.running.get(spec.id)?.next;
    return recurringInfo(definition, spec, this.paused.has(spec.id), next !== undefined ? new Date(next) : undefined);
  }

  async remove(scheduleId: string): Promise<boolean> {
    if (!this.runtimeSpecs.delete(scheduleId)) return false;
    this.paused.delete(scheduleId);
    this.cancel(scheduleId);
    return true;
  }

  async runtime(scheduleId: string): Promise<ScheduleSpec | undefined> {
    return this.runtimeSpecs.get(scheduleId)?.spec;
  }

  async lastRuns(): Promise<Map<string, string>> {
    return new Map(this.lastRunIds);
  }

  async recordLastRun(scheduleId: string, executionId: string): Promise<void> {
    this.lastRunIds.set(scheduleId, executionId);
  }

  async pause(_definition: JobDefinition, spec: ScheduleSpec): Promise<void> {
    this.paused.add(spec.id);
    this.cancel(spec.id);
  }

  async resume(definition: JobDefinition, spec: ScheduleSpec): Promise<void> {
    const wasPaused = this.paused.delete(spec.id);
    if (wasPaused || !this.running.has(spec.id)) this.start(definition, spec);
  }

  async isPaused(scheduleId: string): Promise<boolean> {
    return this.paused.has(scheduleId);
  }

  // NOTE: the workers of this process run as long as its schedules: every tick is due while they run.
  async workersUpSince(): Promise<number | undefined> {
    return this.startedAt;
  }

  async heal(): Promise<void> {
    // NOTE: nothing to heal: schedules live in this process and end with it.
  }

  /** Stops every schedule (shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const id of [...this.running.keys()]) {
      try {
        this.cancel(id);
      } catch (error) {
        this.logger.error(`Closing: stopping schedule "${id}" failed: ${(error as Error).message}`);
      }
    }
  }

  private cancel(id: string): void {
    const schedule = this.running.get(id);
    if (!schedule) return;
    this.running.delete(id);
    schedule.cancel?.();
  }

  private start(definition: JobDefinition, spec: ScheduleSpec): void {
    if (this.paused.has(spec.id) || this.stopped) return;
    const schedule: LocalSchedule = { definition, spec };
    this.running.set(spec.id, schedule);
    const fire = (tick: number) => {
      if (this.stopped || this.running.get(spec.id) !== schedule) return;
      if (spec.startDate && tick < spec.startDate.getTime()) return;
      if (spec.endDate && tick > spec.endDate.getTime()) return this.cancel(spec.id);
      this.onTick(definition, spec, tick);
    };
    if (this.clock) this.startOnClock(schedule, this.clock, fire);
    else if (spec.everyMs !== undefined) this.startInterval(schedule, spec.everyMs, fire);
    else this.startCron(schedule, fire);
  }

  /** Tests: each next tick computed from the manual clock's time and fired when the clock reaches it. */
  private startOnClock(schedule: LocalSchedule, clock: ManualClock, fire: (tick: number) => void): void {
    const { spec } = schedule;
    let handle: unknown;
    const arm = () => {
      const now = clock.now();
      const next =
        spec.everyMs !== undefined
          ? nextInterval(spec.startDate?.getTime() ?? 0, spec.everyMs, now)
          : CronExpressionParser.parse(spec.cron as string, { currentDate: new Date(now), tz: spec.timezone })
              .next()
              .getTime();
      schedule.next = next;
      handle = clock.setTimer(() => {
        fire(next);
        if (this.running.get(spec.id) === schedule) arm();
      }, next - now);
    };
    schedule.cancel = () => clock.clearTimer(handle);
    arm();
  }

  /** Ticks at startDate + k × everyMs, or at multiples of everyMs (as BullMQ's `every`). */
  private startInterval(schedule: LocalSchedule, everyMs: number, fire: (tick: number) => void): void {
    const origin = schedule.spec.startDate?.getTime() ?? 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      const now = Date.now();
      const next = nextInterval(origin, everyMs, now);
      schedule.next = next;
      timer = setTimeout(() => {
        fire(next);
        if (this.running.get(schedule.spec.id) === schedule) arm();
      }, next - now);
    };
    schedule.cancel = () => clearTimeout(timer);
    arm();
  }

  private startCron(schedule: LocalSchedule, fire: (tick: number) => void): void {
    const registry = this.registry;
    if (!registry) throw new TransportNotReadyError(LOCAL_SCHEDULES_NOT_LOADED);
    const name = schedule.spec.id;
    let expected: number | undefined;
    const job = CronJob.from({
      cronTime: schedule.spec.cron as string,
      timeZone: schedule.spec.timezone,
      start: false,
      onTick: () => {
        // NOTE: the cron engine reports when it fired, not which tick: we track the tick it was due for.
        const tick = expected ?? Math.floor(Date.now() / 1000) * 1000;
        expected = job.nextDate().toMillis();
        schedule.next = expected;
        fire(tick);
      },
    });
    if (registry.doesExist('cron', name)) registry.deleteCronJob(name);
    registry.addCronJob(name, job as unknown as CronJob<null, null>);
    schedule.cancel = () => {
      void job.stop();
      if (registry.doesExist('cron', name)) registry.deleteCronJob(name);
    };
    job.start();
    expected = job.nextDate().toMillis();
    schedule.next = expected;
  }
}

/** The next tick of an interval after `now`: startDate + k × everyMs, or a multiple of everyMs (as BullMQ's `every`). */
function nextInterval(origin: number, everyMs: number, now: number): number {
  return now < origin ? origin : origin + Math.ceil((now + 1 - origin) / everyMs) * everyMs;
}
