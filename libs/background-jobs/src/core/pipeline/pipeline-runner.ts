import { Injectable, Logger, Optional } from '@nestjs/common';
import { DistributedLock, TenantContext } from '../../contracts';
import { fanOut } from './fan-out';
import { BatchStore } from '../ports/batch-store.port';
import { JobRegistry } from '../job-registry';
import { RunQueue } from '../ports/run-queue.port';
import { TenantDirectoryLocator } from '../ports/tenant-directory-locator.port';
import { CronCalendar } from '../ports/cron-calendar.port';
import { ScheduleStore } from '../ports/schedule-store.port';
import { JobDefinition } from '../job-definition';
import { JobEvents } from '../job-events';
import { Clock } from '../clock';
import { ResolvedJobsOptions } from '../resolved-options';
import { fansOut, RUN_KINDS, RunKind } from '../run-kind';
import { DeferRun, RunInterrupted, RunOutcome, RunRequest, RunSleeping, SkipRun } from '../run.types';
import { AdmissionStore } from '../ports/admission.port';
import { AdmissionStage } from './admission.stage';
import { AdmissionTallies } from '../admission/admission-tallies';
import { BatchStage } from './batch.stage';
import { DependenciesStage, DependencyFailureStage } from './dependencies.stage';
import { DependencyStore } from '../ports/dependency-store.port';
import { ExecutionReader } from '../ports/execution-reader.port';
import { ResolvedBounds } from '../bounds';
import { ClassifyFailureStage } from './classify-failure.stage';
import { HostInterceptorsStage } from './host-interceptors.stage';
import { LastRunStage } from './last-run.stage';
import { LockStage } from './lock.stage';
import { MisfireStage } from './misfire.stage';
import { PauseStage } from './pause.stage';
import { SchemaStage } from './schema.stage';
import { ObserveStage } from './observe.stage';
import { Invocation, PipelineStage } from './pipeline-stage';
import { RunContext } from './run-context';
import { RunSteps, StepListener } from './run-steps';
import { TenantContextStage } from './tenant-context.stage';
import { TimeoutStage } from './timeout.stage';

/**
 * The one wrapping point every run passes through (stages with nothing to do for a job are left out of its chain):
 * tenant context → dependencies → admission → observe → dependency failure → batch → classify failures → misfire → pause → last run → timeout/cancel → schema → lock →
 * host interceptors → execute. A per-tenant fan-out passes the stages up to timeout/cancel, then enqueues its children.
 */
@Injectable()
export class PipelineRunner {
  private readonly logger = new Logger('BackgroundJobs');
  /** Stages every run passes, a per-tenant fan-out included. */
  private readonly outer: PipelineStage[];
  /** Stages around the job's own `execute` only. */
  private readonly inner: PipelineStage[];
  /** Runs in flight on this instance (shutdown waits for them). */
  running = 0;
  /** Runs interrupted by shutdown and handed back to the queue since the count was last reset. */
  handedBack = 0;
  /** A job's chain for each run kind. */
  private readonly chains = new WeakMap<JobDefinition, Map<RunKind, PipelineStage[]>>();

  private readonly maxPayloadBytes: number;
  /** `ctx.log`'s bounds: every run's context cuts and counts its lines. */
  private readonly bounds: ResolvedBounds;

  constructor(
    options: ResolvedJobsOptions,
    tenant: TenantContext,
    private readonly runs: RunQueue,
    private readonly directories: TenantDirectoryLocator,
    schedules: ScheduleStore,
    private readonly events: JobEvents,
    private readonly clock: Clock,
    calendar: CronCalendar,
    admission: AdmissionStore,
    tallies: AdmissionTallies,
    batches: BatchStore,
    registry: JobRegistry,
    dependencies: DependencyStore,
    executions: ExecutionReader,
    @Optional() lock?: DistributedLock,
  ) {
    this.maxPayloadBytes = options.maxPayloadBytes;
    this.bounds = options.bounds;
    this.outer = [
      new TenantContextStage(tenant),
      // NOTE: before admission: a continuation waiting for its dependencies takes no admission slot.
      new DependenciesStage(dependencies, executions, clock),
      // NOTE: before observe: a run admission holds back emits no `started` and uses no attempt.
      new AdmissionStage(admission, clock, tallies),
      new ObserveStage(events),
      new DependencyFailureStage(),
      new BatchStage(batches, runs, registry),
      new ClassifyFailureStage(options),
      new MisfireStage(calendar, schedules, clock),
      new PauseStage(schedules),
      new LastRunStage(schedules),
      new TimeoutStage(),
    ];
    // NOTE: the lock guards the job's own body; a per-tenant fan-out takes no lock (each child takes its own).
    this.inner = [new SchemaStage(), new LockStage(lock), new HostInterceptorsStage(options.interceptors)];
  }

  /**
   * The stages a job's runs of `kind` pass (a fan-out: the outer ones only; a tick: the schedule stages too), those
   * with nothing to do for it left out.
   */
  chainOf(definition: JobDefinition, kind: RunKind): PipelineStage[] {
    let chains = this.chains.get(definition);
    if (!chains) {
      chains = new Map(
        RUN_KINDS.map((each) => [
          each,
          [...this.outer, ...(fansOut(each) ? [] : this.inner)].filter(
            (stage) => stage.appliesTo?.(definition, each) ?? true,
          ),
        ]),
      );
      this.chains.set(definition, chains);
    }
    return chains.get(kind) as PipelineStage[];
  }

  private stepsOf(definition: JobDefinition, request: RunRequest): RunSteps {
    const { executionId, tenantId, attempt } = request;
    const listener: StepListener | undefined = this.events.has('step')
      ? (step, state, durationMs) =>
          this.events.emit({
            name: 'step',
            jobId: definition.id,
            executionId,
            tenantId,
            attempt,
            attempts: definition.retry.attempts,
            step,
            state,
            durationMs,
          })
      : undefined;
    return new RunSteps(
      definition.id,
      executionId,
      request.steps,
      this.maxPayloadBytes,
      () => this.clock.now(),
      listener,
    );
  }

  /** Runs one execution; resolves completed, skipped or deferred (held back, asleep), rejects with a JobRunFailure or RunInterrupted. */
  run(definition: JobDefinition, request: RunRequest): Promise<RunOutcome> {
    const context = new RunContext(definition, request, this.stepsOf(definition, request), this.bounds);
    const invocation: Invocation = { definition, request, context };
    const stages = this.chainOf(definition, request.kind ?? 'plain');
    const body = fansOut(request.kind)
      ? () => fanOut(definition, context, this.directories.find(), this.runs, this.logger)
      : () => definition.instance.execute(context);
    // NOTE: not an async function: one promise per stage is enough (each costs, with CLS's async hooks on, on every
    // run: ADR 0005). The body's result or synchronous throw still reaches the stages as a promise.
    const dispatch = (index: number): Promise<unknown> => {
      if (index < stages.length) return stages[index].run(invocation, () => dispatch(index + 1));
      try {
        return Promise.resolve(body());
      } catch (error) {
        return Promise.reject(error);
      }
    };
    this.running += 1;
    let settled: Promise<unknown>;
    try {
      settled = dispatch(0);
    } catch (error) {
      settled = Promise.reject(error);
    }
    // NOTE: one `then`, not an async function with an await (ADR 0005).
    return settled.then(
      (result): RunOutcome => {
        this.running -= 1;
        if (result instanceof SkipRun) return { status: 'skipped', reason: result.reason };
        if (result instanceof DeferRun) return { status: 'deferred', waiting: result.waiting, parkOn: result.parkOn };
        return { status: 'completed', value: result };
      },
      (error: unknown): RunOutcome => {
        this.running -= 1;
        // NOTE: `ctx.sleep` leaves the run as admission does: parked until its wake time, no attempt used.
        if (error instanceof RunSleeping)
          return { status: 'deferred', waiting: { reason: 'sleep', until: error.until } };
        if (error instanceof RunInterrupted) this.handedBack += 1;
        throw error;
      },
    );
  }
}
