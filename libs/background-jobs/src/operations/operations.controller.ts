import {
  BadRequestException,
  Body,
  ConflictException,
  Delete,
  Get,
  Header,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  Query,
  Type,
} from '@nestjs/common';
import { BatchSummary, InvalidJobInputError, JobExecution, RecurringJobInfo } from '../contracts';
import { BackgroundJobs, ExecutionPage, ExecutionReader, JobRegistry, rejectUnknownKeys, TenantBacklog } from '../core';
import { BackgroundJobsMetrics } from './background-jobs.metrics';
import { parseExecutionsQuery } from './executions.query';
import type { ResolvedOperations } from './operations.mount';
import { OperationsRestRoute } from './operations.headers';
import { buildOverview, OperationsOverview } from './operations.overview';
import {
  CANCEL_FINISHED,
  BATCH_NOT_FOUND,
  EXECUTION_NOT_FOUND,
  INVALID_QUERY,
  RECURRING_NOT_FOUND,
  SCHEDULE_NOT_FOUND,
} from './operations.messages';
import { parseScheduleBody } from './schedule.body';

/** What `GET executions/:id` answers: the snapshot plus the run's log lines. */
export interface ExecutionDetail extends JobExecution {
  logs: string[];
  /** Lines logged in all; `logs` holds the last 500 at most. */
  logCount: number;
}

const MAX_LOG_LINES = 500;
/** Tenants `GET tenants/backlog` lists per queue unless `top` says otherwise, and the most it lists. */
const BACKLOG_TOP = { default: 10, max: 100 };

/**
 * The REST surface; mounted under `operations.path` behind `operations.guard` by `createOperationsController`.
 * Never mounted without a guard.
 */
export class OperationsController {
  constructor(
    readonly jobs: BackgroundJobs,
    readonly registry: JobRegistry,
    readonly metrics: BackgroundJobsMetrics,
    readonly executions: ExecutionReader,
  ) {}

  /** Runs queued per tenant in each queue of fair jobs (`@PipelineJob({ fairness })`): the `top` tenants, the rest summed. */
  @Get('tenants/backlog')
  tenantBacklog(@Query() query: Record<string, unknown>): Promise<TenantBacklog[]> {
    rejectUnknownKeys(
      query,
      ['top', 'queue'],
      (key, value, known) =>
        new BadRequestException(INVALID_QUERY(key, value, `one of the parameters ${known.join(', ')}`)),
    );
    const fair = [
      ...new Set(
        this.registry
          .all()
          .filter((d) => d.fairness)
          .map((d) => d.queue),
      ),
    ];
    const top = query.top === undefined ? BACKLOG_TOP.default : Number(query.top);
    if (!Number.isInteger(top) || top < 1 || top > BACKLOG_TOP.max) {
      throw new BadRequestException(INVALID_QUERY('top', query.top, `an integer from 1 to ${BACKLOG_TOP.max}`));
    }
    if (query.queue !== undefined && !fair.includes(query.queue as string)) {
      throw new BadRequestException(
        INVALID_QUERY('queue', query.queue, `a queue of fair jobs: ${fair.join(', ') || '(none)'}`),
      );
    }
    const queues = query.queue === undefined ? fair : [query.queue as string];
    return Promise.all(queues.map((queue) => this.executions.tenantBacklog(queue, top)));
  }

  @Get('overview')
  async overview(): Promise<OperationsOverview> {
    return { ...(await buildOverview(this.jobs, this.registry)), runTotals: this.metrics.runTotals() };
  }

  @Get('executions')
  listExecutions(@Query() query: Record<string, unknown>): Promise<ExecutionPage> {
    return this.jobs.listExecutions(parseExecutionsQuery(query, this.registry));
  }

  @Get('executions/:id')
  async getExecution(@Param('id') id: string): Promise<ExecutionDetail> {
    const execution = await this.jobs.getExecution(id);
    if (!execution) throw new NotFoundException(EXECUTION_NOT_FOUND(id));
    const logs = await this.jobs.getExecutionLogs(id, MAX_LOG_LINES);
    return { ...execution, logs: logs?.lines ?? [], logCount: logs?.count ?? 0 };
  }

  /** A batch's counts and state (`BackgroundJobs.getBatch`); its children are executions `<batchId>.<index>`. */
  @Get('batches/:id')
  async getBatch(@Param('id') id: string): Promise<BatchSummary> {
    const batch = await this.jobs.getBatch(id);
    if (!batch) throw new NotFoundException(BATCH_NOT_FOUND(id));
    return batch;
  }

  /** A page of a batch's children (executions `<batchId>.<index>`), in index order; `page` and `size` as for runs. */
  @Get('batches/:id/executions')
  async getBatchExecutions(@Param('id') id: string, @Query() query: Record<string, unknown>): Promise<ExecutionPage> {
    rejectUnknownKeys(
      query,
      ['page', 'size'],
      (key, value, known) =>
        new BadRequestException(INVALID_QUERY(key, value, `one of the parameters ${known.join(', ')}`)),
    );
    const { offset, limit } = parseExecutionsQuery(query, this.registry);
    const batch = await this.jobs.getBatch(id);
    if (!batch) throw new NotFoundException(BATCH_NOT_FOUND(id));
    const indexes = Array.from({ length: Math.max(0, Math.min(limit, batch.total - offset)) }, (_, i) => offset + i);
    const children = await Promise.all(indexes.map((i) => this.jobs.getExecution(`${id}.${i}`)));
    const items = children.filter((child): child is JobExecution => child !== null);
    return { items, total: batch.total, offset, limit };
  }

  @Post('executions/:id/cancel')
  @HttpCode(200)
  async cancel(@Param('id') id: string): Promise<{ executionId: string; cancelled: true }> {
    const execution = await this.jobs.getExecution(id);
    if (!execution) throw new NotFoundException(EXECUTION_NOT_FOUND(id));
    if (!(await this.jobs.cancel(id))) {
      const now = await this.jobs.getExecution(id);
      throw new ConflictException(CANCEL_FINISHED(id, now?.state ?? execution.state));
    }
    return { executionId: id, cancelled: true };
  }

  @Post('executions/:id/retry')
  @HttpCode(200)
  async retry(@Param('id') id: string): Promise<{ executionId: string; retried: true }> {
    try {
      if (!(await this.jobs.retry(id))) throw new NotFoundException(EXECUTION_NOT_FOUND(id));
    } catch (error) {
      if (error instanceof InvalidJobInputError) throw new ConflictException(error.message);
      throw error;
    }
    return { executionId: id, retried: true };
  }

  @Get('recurring')
  listRecurring(): Promise<RecurringJobInfo[]> {
    return this.jobs.listRecurring();
  }

  @Post('recurring/:id/pause')
  @HttpCode(200)
  async pause(@Param('id') id: string): Promise<RecurringJobInfo> {
    await this.onSchedule(id, () => this.jobs.pause(id));
    return this.recurringInfo(id);
  }

  @Post('recurring/:id/resume')
  @HttpCode(200)
  async resume(@Param('id') id: string): Promise<RecurringJobInfo> {
    await this.onSchedule(id, () => this.jobs.resume(id));
    return this.recurringInfo(id);
  }

  @Post('recurring/:id/trigger')
  @HttpCode(202)
  async trigger(@Param('id') id: string): Promise<{ jobId: string; executionId: string }> {
    const info = await this.recurringInfo(id);
    return { jobId: info.jobId, executionId: await this.jobs.trigger(id) };
  }

  /** Creates or replaces a runtime schedule: `{ jobId, cron | everyMs, timezone?, data?, tenantId?, startDate?, endDate?, misfire? }`. */
  @Put('schedules/:id')
  @HttpCode(200)
  async upsertSchedule(@Param('id') id: string, @Body() body: unknown): Promise<RecurringJobInfo> {
    const { jobId, options } = parseScheduleBody(id, body);
    try {
      return await this.jobs.upsertSchedule(jobId, options);
    } catch (error) {
      if (error instanceof InvalidJobInputError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  /** Removes a runtime schedule; 404 when there is none with this id. */
  @Delete('schedules/:id')
  @HttpCode(200)
  async removeSchedule(@Param('id') id: string): Promise<{ scheduleId: string; removed: true }> {
    let removed: boolean;
    try {
      removed = await this.jobs.removeSchedule(id);
    } catch (error) {
      if (error instanceof InvalidJobInputError) throw new BadRequestException(error.message);
      throw error;
    }
    if (!removed) throw new NotFoundException(SCHEDULE_NOT_FOUND(id));
    return { scheduleId: id, removed: true };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }

  /** Runs `action` on a schedule id; an id that names no schedule is a 404 listing the known ones. */
  private async onSchedule(id: string, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      if (!(error instanceof InvalidJobInputError)) throw error;
      throw new NotFoundException(
        RECURRING_NOT_FOUND(
          id,
          (await this.jobs.listRecurring()).map((r) => r.scheduleId),
        ),
      );
    }
  }

  private async recurringInfo(id: string): Promise<RecurringJobInfo> {
    const all = await this.jobs.listRecurring();
    const info = all.find((r) => r.scheduleId === id);
    if (!info)
      throw new NotFoundException(
        RECURRING_NOT_FOUND(
          id,
          all.map((r) => r.scheduleId),
        ),
      );
    return info;
  }
}

/**
 * Builds the controller class for a path and guard: Nest reads both from decorators, so the class is made per module.
 * `before` are guards that run ahead of the host's (the dashboard's session guard, where the page calls it).
 */
export function createOperationsController(
  operations: Pick<ResolvedOperations, 'guard' | 'path'>,
  before: Function[] = [],
): Type {
  @OperationsRestRoute(operations, before)
  class BackgroundJobsOperationsController extends OperationsController {
    constructor(
      jobs: BackgroundJobs,
      registry: JobRegistry,
      metrics: BackgroundJobsMetrics,
      executions: ExecutionReader,
    ) {
      super(jobs, registry, metrics, executions);
    }
  }
  return BackgroundJobsOperationsController;
}
