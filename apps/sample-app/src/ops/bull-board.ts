import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import type { NextFunction, Request, Response } from 'express';
import { BackgroundJobs } from 'nestjs-background-jobs';
import { bullmqConnection, queuePrefix, SampleRedis } from '../sample-app.redis';
import { refuseOpsRequest } from './ops-token.guard';

export const BULL_BOARD_PATH = '/admin/queues';
export const BULL_BOARD_CONFIG = Symbol('sample-app:bull-board-config');

/** Where the queues live: the same Redis and prefix the app gives BackgroundJobsModule. */
export interface BullBoardConfig {
  /** One server, a cluster (each queue under `<prefix>:{<queue>}`, as the library keys it) or Sentinel. */
  redis: SampleRedis;
  prefix: string;
  /** Queues to show besides the recurring jobs' ones. @default ['background-jobs'] */
  queues?: string[];
}

/**
 * Mounts bull-board (UI, API and static assets) at /admin/queues on the Express instance, behind the same bearer
 * token as the REST surface.
 */
@Injectable()
export class BullBoardMount implements OnModuleInit, OnApplicationShutdown {
  private readonly queues: Queue[] = [];
  private closeConnection = async (): Promise<void> => undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly jobs: BackgroundJobs,
    @Inject(BULL_BOARD_CONFIG) private readonly config: BullBoardConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const app = this.adapterHost.httpAdapter?.getInstance?.();
    if (!app) return; // NOTE: an application context without HTTP (e.g. the demo script) has nothing to mount on.
    const names = new Set(this.config.queues ?? ['background-jobs']);
    for (const info of await this.jobs.listRecurring()) names.add(info.queue);
    const { connection, close } = bullmqConnection(this.config.redis);
    this.closeConnection = close;
    for (const name of names)
      this.queues.push(
        new Queue(name, { connection, prefix: queuePrefix(this.config.redis, this.config.prefix, name) }),
      );
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath(BULL_BOARD_PATH);
    createBullBoard({ queues: this.queues.map((queue) => new BullMQAdapter(queue)), serverAdapter });
    const guard = (req: Request, res: Response, next: NextFunction) => {
      const refusal = refuseOpsRequest(req.headers.authorization);
      if (refusal) res.status(refusal.status).json({ statusCode: refusal.status, message: refusal.message });
      else next();
    };
    app.use(BULL_BOARD_PATH, guard, serverAdapter.getRouter());
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.queues.splice(0).map((queue) => queue.close()));
    await this.closeConnection();
  }
}
