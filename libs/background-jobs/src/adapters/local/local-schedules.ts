import { Logger } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { CronExpressionParser } from 'cron-parser';
import { RecurringJobInfo } from '../../contracts';
import { JobDefinition, JobRegistry, loadOptionalPeer, recurringInfo, ScheduleStore } from '../../core';

const SCHEDULE_PEER = {
  pkg: '@nestjs/schedule',
  feature: "The embedded transport (transport: { type: 'local' })",
  install: 'npm install @nestjs/schedule@^6 (NestJS 11) or @nestjs/schedule@^12 (NestJS 12).',
};
import { ManualClock } from './manual-clock';

/** Called on each tick with the tick it was due for (ms): the run queue adds the run. */
export type TickHandler = (definition: JobDefinition, tick: number) => void;

/**
 * The embedded transport's schedules, on @nestjs/schedule's registry and cron engine. Pauses live in this
 * process only; there is nothing to heal (nothing outlives the process).
 */
export class LocalSchedules extends ScheduleStore {
  private readonly logger = new Logger('BackgroundJobs');
  // NOTE: @nestjs/schedule is an optional peer (BullMQ-only apps need not install it): loaded by reconcile(), which
  // start() calls first; until then there is no schedule to read.
  private registry?: SchedulerRegistry;
  private readonly paused = new Set<string>();
  private readonly lastRunIds = new Map<string, string>();
  private stopped = false;

  /** Tests: each job's next tick on the manual clock (the timer and the tick), instead of a CronJob. */
  private readonly clockTicks = new Map<string, { handle: unknown; tick: number }>();

  /** @param clock tests (`forTest()`): ticks computed by cron-parser and fired by this clock, not @nestjs/schedule. */
  constructor(
    private readonly onTick: TickHandler,
    private readonly clock?: ManualClock,
  ) {
    super();
  }

  async reconcile(registry: JobRegistry): Promise<void> {
    if (!this.registry) {
      const { SchedulerRegistry } = await loadOptionalPeer(SCHEDULE_PEER, () => import('@nestjs/schedule'));
      this.registry ??= new SchedulerRegistry();
    }
    for (const definition of registry.recurring()) {
      if (!this.schedules.doesExist('cron', definition.id) && !this.clockTicks.has(definition.id)) this.schedule(definition);
    }
  }

  private get schedules(): SchedulerRegistry {
    if (!this.registry) throw new Error('LocalSchedules used before reconcile() loaded @nestjs/schedule.');
    return this.registry;
  }

  async listRecurring(registry: JobRegistry): Promise<RecurringJobInfo[]> {
    return registry.recurring().map((definition) => {
      const cron = this.registry?.getCronJobs().get(definition.id);
      const paused = this.paused.has(definition.id);
      const clockTick = this.clockTicks.get(definition.id)?.tick;
      const next = clockTick !== undefined ? new Date(clockTick) : cron?.nextDate().toJSDate();
      return recurringInfo(definition, paused, paused ? undefined : next);
    });
  }

  async lastRuns(): Promise<Map<string, string>> {
    return new Map(this.lastRunIds);
  }

  async recordLastRun(jobId: string, executionId: string): Promise<void> {
    this.lastRunIds.set(jobId, executionId);
  }

  async pause(definition: JobDefinition): Promise<void> {
    this.paused.add(definition.id);
    this.clock?.clearTimer(this.clockTicks.get(definition.id)?.handle);
    this.clockTicks.delete(definition.id);
    await this.registry?.getCronJobs().get(definition.id)?.stop();
  }

  async resume(definition: JobDefinition): Promise<void> {
    this.paused.delete(definition.id);
    if (this.stopped) return;
    if (this.clock) return this.schedule(definition);
    const cron = this.registry?.getCronJobs().get(definition.id);
    if (cron) {
      this.schedules.deleteCronJob(definition.id);
      this.schedule(definition);
    }
  }

  async isPaused(jobId: string): Promise<boolean> {
    return this.paused.has(jobId);
  }

  async heal(): Promise<void> {
    // NOTE: nothing to heal: schedules live in this process and end with it.
  }

  /** Stops every schedule (shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { handle } of this.clockTicks.values()) this.clock?.clearTimer(handle);
    this.clockTicks.clear();
    if (!this.registry) return;
    for (const name of this.schedules.getCronJobs().keys()) {
      try {
        await this.schedules.getCronJob(name).stop();
        this.schedules.deleteCronJob(name);
      } catch (error) {
        this.logger.error(`Closing: stopping schedule "${name}" failed: ${(error as Error).message}`);
      }
    }
  }

  private schedule(definition: JobDefinition): void {
    if (this.paused.has(definition.id) || this.stopped) return;
    if (this.clock) return this.scheduleOnClock(definition, this.clock);
    let expected: number | undefined;
    const job = CronJob.from({
      cronTime: definition.cron as string,
      timeZone: definition.timezone,
      start: false,
      onTick: () => {
        // NOTE: the cron engine reports when it fired, not which tick: we track the tick it was due for.
        const tick = expected ?? Math.floor(Date.now() / 1000) * 1000;
        expected = job.nextDate().toMillis();
        if (!this.stopped) this.onTick(definition, tick);
      },
    });
    this.schedules.addCronJob(definition.id, job as unknown as CronJob<null, null>);
    job.start();
    expected = job.nextDate().toMillis();
  }

  private scheduleOnClock(definition: JobDefinition, clock: ManualClock): void {
    const now = clock.now();
    const tick = CronExpressionParser.parse(definition.cron as string, { currentDate: new Date(now), tz: definition.timezone }).next().getTime();
    const handle = clock.setTimer(() => {
      this.clockTicks.delete(definition.id);
      if (this.stopped) return;
      this.onTick(definition, tick);
      if (!this.paused.has(definition.id)) this.scheduleOnClock(definition, clock);
    }, tick - now);
    this.clockTicks.set(definition.id, { handle, tick });
  }
}
