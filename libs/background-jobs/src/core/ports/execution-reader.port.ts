import { JobExecution } from '../../contracts';
import { TenantBacklog } from '../tenant-backlog';
import { ExecutionLogs, ExecutionPage, ExecutionQuery, QueueDepth, RetryResult } from './transport.types';

/** Reading executions: the read model behind `getExecution`, listings, logs and depths (and `retry` of a failed run). */
export abstract class ExecutionReader {
  abstract getExecution(executionId: string): Promise<JobExecution | null>;
  /** Resolves once the execution reaches a final state, or rejects with `WaitTimeoutError` after `timeoutMs`. */
  abstract waitForFinal(executionId: string, timeoutMs: number): Promise<JobExecution>;
  /** Executions matching `query`, newest first. */
  abstract listExecutions(query: ExecutionQuery): Promise<ExecutionPage>;
  /** The last `limit` lines a run logged (`ctx.log`, progress messages), oldest first; null for unknown ids. */
  abstract getExecutionLogs(executionId: string, limit: number): Promise<ExecutionLogs | null>;
  /** Re-queues a failed run as a fresh attempt. */
  abstract retry(executionId: string): Promise<RetryResult>;
  abstract queueDepths(): Promise<QueueDepth[]>;
  /** Runs of fair jobs queued per tenant in `queue` (`@PipelineJob({ fairness })`): the `top` tenants, the rest summed. */
  abstract tenantBacklog(queue: string, top: number): Promise<TenantBacklog>;
}
