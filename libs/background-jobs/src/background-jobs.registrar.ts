import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { DistributedLock, SHUTDOWN_DRAIN, SHUTDOWN_DRAINED, SHUTDOWN_HOOKS_DISABLED } from './contracts';
import { JobRegistry, PipelineRunner, ResolvedJobsOptions, RunQueue, ScheduleStore } from './core';

/**
 * How long after bootstrap the registrar looks for a SIGTERM listener. NOTE: a standalone context
 * (`NestFactory.createApplicationContext`) runs bootstrap hooks inside `create()`, so `app.enableShutdownHooks()`
 * always comes after them; this gives the host's main.ts time to call it.
 */
export const SHUTDOWN_HOOKS_CHECK_MS = 1_000;

/** `false` under `forTest()`: a test app is closed by the test, not by SIGTERM. */
export const SHUTDOWN_HOOKS_CHECK = Symbol('background-jobs:shutdown-hooks-check');

/** Reconciles the schedules and starts the workers once every job is recorded; stops the transport on shutdown. */
@Injectable()
export class BackgroundJobsRegistrar implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('BackgroundJobs');
  /** Runs this instance is executing now, counted here so shutdown can say what it waits for. */
  private hooksCheck?: NodeJS.Timeout;

  constructor(
    private readonly registry: JobRegistry,
    private readonly runs: RunQueue,
    private readonly schedules: ScheduleStore,
    private readonly runner: PipelineRunner,
    private readonly options: ResolvedJobsOptions,
    @Optional() private readonly lock?: DistributedLock,
    @Optional() @Inject(SHUTDOWN_HOOKS_CHECK) private readonly checkShutdownHooks: boolean = true,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.schedules.reconcile(this.registry);
    // NOTE: the runner counts the runs in flight and those handed back (shutdown reads them): no wrapper of ours
    // around each run, since every promise costs on every run (ADR 0005).
    await this.runs.start(this.registry, (definition, request) => this.runner.run(definition, request));
    if (this.options.worker && this.checkShutdownHooks !== false) {
      // NOTE: only a worker loses runs to a bare SIGTERM; a producer-only instance has nothing to drain.
      this.hooksCheck = setTimeout(() => {
        if (process.listenerCount('SIGTERM') === 0) this.logger.warn(SHUTDOWN_HOOKS_DISABLED);
      }, SHUTDOWN_HOOKS_CHECK_MS);
      this.hooksCheck.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.hooksCheck);
    const started = Date.now();
    const running = this.runner.running;
    if (running > 0 && this.options.worker)
      this.logger.log(SHUTDOWN_DRAIN(running, this.options.worker.shutdownGraceMs));
    this.runner.handedBack = 0;
    await this.runs.close();
    if (running > 0) {
      const handedBack = Math.min(this.runner.handedBack, running);
      this.logger.log(SHUTDOWN_DRAINED(running - handedBack, handedBack, Date.now() - started));
    }
    // NOTE: after the transport, so runs that finish during the grace period can still release their leases.
    await this.lock?.close();
  }
}
