import { INVALID_LOG_LIMIT, InvalidJobInputError, JobExecution, RETRY_NOT_FAILED } from '../../contracts';
import { DEFAULTS, intAtLeast } from '../defaults';
import { ExecutionLogs, ExecutionPage, ExecutionQuery } from '../ports/transport.types';
import { FacadeContext } from './facade-context';

/** The facade's executions: read one, list, read its logs, retry a failed one. */
export class ExecutionsFacade {
  constructor(private readonly ctx: FacadeContext) {}

  getExecution(executionId: string): Promise<JobExecution | null> {
    this.ctx.assertExecutionId(executionId);
    return this.ctx.executions.getExecution(executionId);
  }

  async retry(executionId: string): Promise<boolean> {
    this.ctx.assertExecutionId(executionId);
    const result = await this.ctx.executions.retry(executionId);
    if (result.status === 'not-failed') throw new InvalidJobInputError(RETRY_NOT_FAILED(executionId, result.state));
    return result.status === 'retried';
  }

  listExecutions(query: Partial<ExecutionQuery> = {}): Promise<ExecutionPage> {
    if (query.jobId !== undefined) this.ctx.resolve(query.jobId);
    return this.ctx.executions.listExecutions({
      ...query,
      offset: query.offset ?? 0,
      limit: query.limit ?? DEFAULTS.pageSize,
    });
  }

  getExecutionLogs(executionId: string, limit: number): Promise<ExecutionLogs | null> {
    this.ctx.assertExecutionId(executionId);
    if (!intAtLeast(limit, 1)) throw new InvalidJobInputError(INVALID_LOG_LIMIT(executionId, limit));
    return this.ctx.executions.getExecutionLogs(executionId, limit);
  }
}
