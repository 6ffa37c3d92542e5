import { Injectable, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { DistributedLock } from './contracts';
import { JobRegistry, PipelineRunner, RunQueue, ScheduleStore } from './core';

/** Reconciles the schedules and starts the workers once every job is recorded; stops the transport on shutdown. */
@Injectable()
export class BackgroundJobsRegistrar implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly registry: JobRegistry,
    private readonly runs: RunQueue,
    private readonly schedules: ScheduleStore,
    private readonly runner: PipelineRunner,
    @Optional() private readonly lock?: DistributedLock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.schedules.reconcile(this.registry);
    await this.runs.start(this.registry, (definition, request) => this.runner.run(definition, request));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runs.close();
    // NOTE: after the transport, so runs that finish during the grace period can still release their leases.
    await this.lock?.close();
  }
}
