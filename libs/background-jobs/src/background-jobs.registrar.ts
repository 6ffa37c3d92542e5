import { Injectable, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { DistributedLock } from './contracts';
import { JobRegistry, JobTransport, PipelineRunner } from './core';

/** Starts the transport once every job is recorded, and stops it on shutdown. */
@Injectable()
export class BackgroundJobsRegistrar implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly registry: JobRegistry,
    private readonly transport: JobTransport,
    private readonly runner: PipelineRunner,
    @Optional() private readonly lock?: DistributedLock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.transport.start(this.registry, (definition, request) => this.runner.run(definition, request));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.transport.close();
    // NOTE: after the transport, so runs that finish during the grace period can still release their leases.
    const lock = this.lock as (DistributedLock & { close?: () => Promise<void> }) | null | undefined;
    await lock?.close?.();
  }
}
