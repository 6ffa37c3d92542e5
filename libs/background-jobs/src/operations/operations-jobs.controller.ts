import {
  BadRequestException,
  Body,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  Type,
} from '@nestjs/common';
import { FINAL_STATES, InvalidJobInputError, JobState, JobTenancy } from '../contracts';
import { BackgroundJobs, ExecutionReader, InstanceInfo, JobDefinition, JobRegistry, rejectUnknownKeys } from '../core';
import { OperationsRestRoute } from './operations.headers';
import { INVALID_QUERY, INVALID_SCHEDULE_BODY, JOB_NOT_FOUND, PAYLOAD_REJECTED_BY_SCHEMA } from './operations.messages';
import type { ResolvedOperations } from './operations.mount';

/** One job definition as `GET jobs` lists it. */
export interface JobSummary {
  id: string;
  className: string;
  queue: string;
  tenancy: JobTenancy;
  enabled: boolean;
  /** The decorator schedule, or null for a job that only runs when enqueued. */
  schedule: { cron?: string; everyMs?: number; timezone: string } | null;
  lock: { ttlMs?: number; key?: string } | null;
  retry: { attempts: number; backoffMs: number };
  timeoutMs: number;
  fairness: { concurrencyPerTenant?: number } | null;
  /** Whether the job checks its payload with a `schema` (`POST jobs/:id/enqueue` checks it before enqueueing). */
  hasSchema: boolean;
}

/** Most failed runs one `POST executions/retry` retries, and how many it retries when no `limit` is given. */
export const BULK_RETRY_LIMIT = { default: 100, max: 1_000 };

const ENQUEUE_KEYS = ['data', 'tenantId', 'delayMs'];
const RETRY_KEYS = ['state', 'jobId', 'tenantId', 'limit'];

function summary(d: JobDefinition): JobSummary {
  const recurring = d.cron !== undefined || d.everyMs !== undefined;
  return {
    id: d.id,
    className: d.className,
    queue: d.queue,
    tenancy: d.tenancy,
    enabled: d.enabled,
    schedule: recurring ? { cron: d.cron, everyMs: d.everyMs, timezone: d.timezone } : null,
    lock: d.lock ? { ...d.lock } : null,
    retry: d.retry,
    timeoutMs: d.timeoutMs,
    fairness: d.fairness ? { ...d.fairness } : null,
    hasSchema: d.schema !== undefined,
  };
}

function objectBody(body: unknown, keys: string[], shape: string): Record<string, unknown> {
  const value = body ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new BadRequestException(INVALID_SCHEDULE_BODY('(body)', body, `a JSON object ${shape}`));
  rejectUnknownKeys(
    value,
    keys,
    (key, given, known) =>
      new BadRequestException(INVALID_SCHEDULE_BODY(key, given, `one of the fields ${known.join(', ')}`)),
  );
  return value as Record<string, unknown>;
}

/** Job definitions, enqueue with a payload, bulk retry and removal: the dashboard's definitions and dead letters. */
export class OperationsJobsController {
  constructor(
    readonly jobs: BackgroundJobs,
    readonly registry: JobRegistry,
    readonly executions: ExecutionReader,
  ) {}

  /** Live instances running workers, from their heartbeats: an instance whose process died drops out within 6 s. */
  @Get('instances')
  listInstances(): Promise<InstanceInfo[]> {
    return this.executions.listInstances();
  }

  @Get('jobs')
  listJobs(): JobSummary[] {
    return this.registry.all().map(summary);
  }

  /** Enqueues a run of a job: `{ data?, tenantId?, delayMs? }`; the job's `schema`, when it has one, checks `data` first. */
  @Post('jobs/:id/enqueue')
  @HttpCode(202)
  async enqueue(@Param('id') id: string, @Body() body: unknown): Promise<{ executionId: string }> {
    const definition = this.registry.get(id);
    if (!definition)
      throw new NotFoundException(
        JOB_NOT_FOUND(
          id,
          this.registry.all().map((d) => d.id),
        ),
      );
    const { data, tenantId, delayMs } = objectBody(body, ENQUEUE_KEYS, '{ data?, tenantId?, delayMs? }');
    if (tenantId !== undefined && tenantId !== null && typeof tenantId !== 'string')
      throw new BadRequestException(INVALID_SCHEDULE_BODY('tenantId', tenantId, 'a tenant id, or null for host level'));
    const schema = definition.schema;
    if (schema) {
      try {
        if (typeof schema === 'function') schema(data);
        else schema.parse(data);
      } catch (error) {
        throw new BadRequestException(
          PAYLOAD_REJECTED_BY_SCHEMA(id, error instanceof Error ? error.message : String(error)),
        );
      }
    }
    try {
      const options = { tenantId: tenantId as string | null | undefined, delayMs: delayMs as number | undefined };
      const executionId = await (this.jobs.enqueue as (job: string, data: unknown, o: object) => Promise<string>)(
        id,
        data,
        options,
      );
      return { executionId };
    } catch (error) {
      if (error instanceof InvalidJobInputError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  /** Retries failed runs matching `{ state: 'failed', jobId?, tenantId?, limit? }`, newest first: `{ retried }`. */
  @Post('executions/retry')
  @HttpCode(200)
  async retryMany(@Body() body: unknown): Promise<{ retried: number; executionIds: string[] }> {
    const { state, jobId, tenantId, limit } = objectBody(
      body,
      RETRY_KEYS,
      "{ state: 'failed', jobId?, tenantId?, limit? }",
    );
    if (state !== 'failed')
      throw new BadRequestException(INVALID_SCHEDULE_BODY('state', state, "'failed' (only failed runs are retried)"));
    if (jobId !== undefined && (typeof jobId !== 'string' || !this.registry.get(jobId)))
      throw new BadRequestException(INVALID_SCHEDULE_BODY('jobId', jobId, 'the id of a registered job'));
    if (tenantId !== undefined && tenantId !== null && typeof tenantId !== 'string')
      throw new BadRequestException(INVALID_SCHEDULE_BODY('tenantId', tenantId, 'a tenant id, or null for host level'));
    const max = limit ?? BULK_RETRY_LIMIT.default;
    if (!Number.isInteger(max) || (max as number) < 1 || (max as number) > BULK_RETRY_LIMIT.max)
      throw new BadRequestException(
        INVALID_SCHEDULE_BODY('limit', limit, `an integer from 1 to ${BULK_RETRY_LIMIT.max}`),
      );
    const page = await this.jobs.listExecutions({
      states: ['failed'],
      jobId: jobId as string | undefined,
      tenantId: tenantId as string | null | undefined,
      offset: 0,
      limit: max as number,
    });
    const executionIds: string[] = [];
    for (const run of page.items) {
      try {
        if (await this.jobs.retry(run.executionId)) executionIds.push(run.executionId);
      } catch (error) {
        // NOTE: a run retried or removed meanwhile (another click, another instance) is simply not counted.
        if (!(error instanceof InvalidJobInputError)) throw error;
      }
    }
    return { retried: executionIds.length, executionIds };
  }

  /** Removes finished runs matching the query (at most 1,000 a call, newest first): `{ removed }`. */
  @Delete('executions')
  async removeMany(@Query() query: Record<string, unknown>): Promise<{ removed: number }> {
    const { states, jobId, tenantId, olderThan } = removalFilter(query, this.registry);
    const page = await this.jobs.listExecutions({ states, jobId, tenantId, offset: 0, limit: BULK_REMOVE_LIMIT });
    let removed = 0;
    for (const run of page.items) {
      const finishedAt = run.finishedAt ? new Date(run.finishedAt).getTime() : Number.POSITIVE_INFINITY;
      if (olderThan && !(finishedAt < olderThan.getTime())) continue;
      if (await this.executions.remove(run.executionId)) removed += 1;
    }
    return { removed };
  }
}

/** Most runs one `DELETE executions` removes. */
export const BULK_REMOVE_LIMIT = 1_000;
const REMOVE_KEYS = ['state', 'jobId', 'tenantId', 'olderThan'];

/**
 * Reads `DELETE executions?state=&jobId=&tenantId=&olderThan=`: finished states only (comma-separated), `tenantId`
 * `-` for host level, `olderThan` an ISO 8601 date the run finished before.
 */
function removalFilter(raw: Record<string, unknown>, registry: JobRegistry) {
  const bad = (field: string, expected: string) => new BadRequestException(INVALID_QUERY(field, raw[field], expected));
  for (const key of Object.keys(raw))
    if (!REMOVE_KEYS.includes(key)) throw bad(key, `one of ${REMOVE_KEYS.join(', ')}`);
  const finished = `one or more (comma-separated) of ${FINAL_STATES.join(', ')}`;
  if (typeof raw.state !== 'string') throw bad('state', finished);
  const states = raw.state.split(',').map((s) => s.trim());
  if (states.some((s) => !FINAL_STATES.includes(s as JobState))) throw bad('state', finished);
  if (raw.jobId !== undefined && (typeof raw.jobId !== 'string' || !registry.get(raw.jobId)))
    throw bad('jobId', 'the id of a registered job');
  if (raw.tenantId !== undefined && typeof raw.tenantId !== 'string') throw bad('tenantId', "a tenant id, or '-'");
  const olderThan = raw.olderThan === undefined ? undefined : new Date(String(raw.olderThan));
  if (olderThan && Number.isNaN(olderThan.getTime())) throw bad('olderThan', 'an ISO 8601 date');
  const tenantId = raw.tenantId === undefined ? undefined : raw.tenantId === '-' ? null : (raw.tenantId as string);
  return { states: states as JobState[], jobId: raw.jobId as string | undefined, tenantId, olderThan };
}

/** Builds the jobs controller for a path and guard, like createOperationsController. */
export function createOperationsJobsController(
  operations: Pick<ResolvedOperations, 'guard' | 'path'>,
  before: Function[] = [],
): Type {
  @OperationsRestRoute(operations, before)
  class BackgroundJobsOperationsJobsController extends OperationsJobsController {
    constructor(jobs: BackgroundJobs, registry: JobRegistry, executions: ExecutionReader) {
      super(jobs, registry, executions);
    }
  }
  return BackgroundJobsOperationsJobsController;
}
