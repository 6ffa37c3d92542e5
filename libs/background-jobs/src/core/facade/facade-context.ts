import {
  INVALID_EXECUTION_ID,
  INVALID_TENANT_ID,
  InvalidJobInputError,
  JobClass,
  TenantContext,
  UNKNOWN_JOB,
} from '../../contracts';
import { Clock } from '../clock';
import { CronCalendar } from '../ports/cron-calendar.port';
import { ExecutionReader } from '../ports/execution-reader.port';
import { RunQueue } from '../ports/run-queue.port';
import { ScheduleStore } from '../ports/schedule-store.port';
import { isValidTenantId } from '../pipeline/fan-out';
import { JobDefinition } from '../job-definition';
import { JobRegistry } from '../job-registry';
import { ResolvedJobsOptions } from '../resolved-options';

/**
 * A job class decorated with `@PipelineJob` (payload and result types follow from its `execute`), or its id
 * (payload and result `unknown`).
 */
export type JobRef = JobClass | string;

/**
 * What every part of the `BackgroundJobs` facade shares: its ports and the input checks more than one part makes.
 * A part (runs, schedules, executions, …) is one file taking this; the facade delegates to it.
 */
export class FacadeContext {
  constructor(
    readonly registry: JobRegistry,
    readonly runs: RunQueue,
    readonly executions: ExecutionReader,
    readonly schedules: ScheduleStore,
    readonly tenant: TenantContext,
    readonly options: ResolvedJobsOptions,
    readonly calendar: CronCalendar,
    readonly clock: Clock,
  ) {}

  /** The definition of a job class or id; InvalidJobInputError listing the known ids when there is none. */
  resolve(job: JobRef): JobDefinition {
    const definition =
      typeof job === 'string'
        ? this.registry.get(job)
        : typeof job === 'function'
          ? this.registry.getByClass(job)
          : undefined;
    if (!definition) {
      throw new InvalidJobInputError(
        UNKNOWN_JOB(
          typeof job === 'function' ? job.name : job,
          this.registry.all().map((d) => d.id),
        ),
      );
    }
    return definition;
  }

  assertTenant(jobId: string, tenantId: unknown): asserts tenantId is string | null {
    if (tenantId === null) return;
    if (!isValidTenantId(tenantId)) throw new InvalidJobInputError(INVALID_TENANT_ID(jobId, tenantId));
  }

  assertExecutionId(executionId: unknown): asserts executionId is string {
    if (typeof executionId !== 'string' || executionId.length === 0) {
      throw new InvalidJobInputError(INVALID_EXECUTION_ID(executionId));
    }
  }
}
