import { isFinalState, JobExecution, WAIT_TIMEOUT, WaitTimeoutError } from '../../contracts';
import {
  ExecutionLogs,
  ExecutionPage,
  ExecutionQuery,
  ExecutionReader,
  InstanceInfo,
  QueueDepth,
  RetryResult,
  TenantBacklog,
} from '../../core';
import { BullmqFairness } from './bullmq-fairness';
import { BullmqConnections } from './bullmq-connections';
import { ALL_STATES, BULL_TYPES_OF, reviveExecution, toExecution } from './bullmq-execution.mapper';
import { BullmqInstances } from './bullmq-instances';
import { BullmqKeys } from './bullmq-keys';
import { BullmqQueues } from './bullmq-queues';

/** Newest runs read per queue and BullMQ state when listing; bounded like the default history. */
const LIST_SCAN_LIMIT = 5_000;

/** The read model on BullMQ: executions are BullMQ jobs (and tombstones of runs cancelled before they started). */
export class BullmqExecutionsReader extends ExecutionReader {
  constructor(
    private readonly queues: BullmqQueues,
    private readonly connections: BullmqConnections,
    private readonly keys: BullmqKeys,
    private readonly fairness: BullmqFairness,
    private readonly instances: BullmqInstances,
  ) {
    super();
  }

  async remove(executionId: string): Promise<boolean> {
    const found = await this.queues.find(executionId);
    if (!found) return (await this.connections.commands().del(this.keys.cancelled(executionId))) > 0;
    const state = await found.job.getState();
    if (state !== 'completed' && state !== 'failed') return false;
    await found.job.remove();
    return true;
  }

  listInstances(): Promise<InstanceInfo[]> {
    return this.instances.list();
  }

  tenantBacklog(queue: string, top: number): Promise<TenantBacklog> {
    return this.fairness.backlog(this.queues.get(queue), top);
  }

  async getExecution(executionId: string): Promise<JobExecution | null> {
    for (const queue of this.queues.known()) {
      // NOTE: state first, then the hash: a job seen finished is read with its return value and failure.
      const state = await queue.getJobState(executionId);
      if (state === 'unknown') continue;
      const job = await queue.getJob(executionId);
      if (job) return toExecution(job, state);
    }
    const tombstone = await this.connections.commands().get(this.keys.cancelled(executionId));
    return tombstone ? reviveExecution(tombstone) : null;
  }

  async waitForFinal(executionId: string, timeoutMs: number): Promise<JobExecution> {
    const deadline = Date.now() + timeoutMs;
    let pause = 10;
    for (;;) {
      const execution = await this.getExecution(executionId);
      if (execution && isFinalState(execution.state)) return execution;
      if (Date.now() >= deadline)
        throw new WaitTimeoutError(executionId, timeoutMs, WAIT_TIMEOUT(executionId, timeoutMs));
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(1, deadline - Date.now()))));
      pause = Math.min(pause * 2, 200);
    }
  }

  async listExecutions(query: ExecutionQuery): Promise<ExecutionPage> {
    const bullTypes = new Set((query.states ?? ALL_STATES).flatMap((state) => BULL_TYPES_OF[state]));
    const matches: JobExecution[] = [];
    for (const queue of this.queues.known()) {
      for (const type of bullTypes) {
        const jobs = await queue.getJobs([type], 0, LIST_SCAN_LIMIT - 1, false);
        for (const job of jobs) {
          if (!job?.id) continue;
          if (query.jobId !== undefined && job.name !== query.jobId) continue;
          const execution = toExecution(job, type === 'waiting-children' ? 'waiting' : type);
          if (query.states && !query.states.includes(execution.state)) continue;
          if (query.tenantId !== undefined && execution.tenantId !== query.tenantId) continue;
          matches.push(execution);
        }
      }
    }
    matches.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.executionId.localeCompare(a.executionId));
    return {
      items: matches.slice(query.offset, query.offset + query.limit),
      total: matches.length,
      offset: query.offset,
      limit: query.limit,
    };
  }

  async getExecutionLogs(executionId: string, limit: number): Promise<ExecutionLogs | null> {
    const found = await this.queues.find(executionId);
    if (!found) return null;
    // NOTE: BullMQ reads the list from the newest end when asc is false: the last `limit` lines, newest first.
    const { logs, count } = await found.queue.getJobLogs(executionId, 0, limit - 1, false);
    return { lines: logs.reverse(), count };
  }

  async retry(executionId: string): Promise<RetryResult> {
    const found = await this.queues.find(executionId);
    if (!found) return { status: 'unknown' };
    const bullState = await found.job.getState();
    const state = bullState === 'unknown' ? undefined : toExecution(found.job, bullState).state;
    if (state !== 'failed') return { status: 'not-failed', state: state ?? 'pending' };
    await found.job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return { status: 'retried' };
  }

  async queueDepths(): Promise<QueueDepth[]> {
    return Promise.all(
      this.queues.known().map(async (queue) => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
        return {
          queue: queue.name,
          waiting: counts.waiting ?? 0,
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
          prioritized: counts.prioritized ?? 0,
          completed: counts.completed ?? 0,
          failed: counts.failed ?? 0,
        };
      }),
    );
  }
}
