import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isFinalState, JobExecution, JobState, WAIT_TIMEOUT, WaitTimeoutError } from '../../contracts';
import {
  ExecutionLogs,
  ExecutionPage,
  ExecutionQuery,
  ExecutionReader,
  InstanceInfo,
  JobDefinition,
  PROCESS_IDENTITY,
  QueueDepth,
  RetryResult,
  TenantBacklog,
  topTenants,
} from '../../core';
import { LocalRun, snapshot } from './local-run';
import { LocalClock } from './manual-clock';

/**
 * The embedded transport's runs, in memory: the read model, history retention, and a change event per run
 * (what `waitForFinal` listens to).
 */
export class LocalExecutionsStore extends ExecutionReader {
  readonly runs = new Map<string, LocalRun>();
  private readonly events = new EventEmitter();
  private readonly finished = new Map<string, Set<string>>();
  /** This process as the one instance (set when its workers start; none for `worker: false`). */
  private instance?: () => { queues: string[]; concurrency: number; running: number };
  private readonly instanceId = randomUUID();
  private readonly startedAt = new Date();

  /** @param requeue puts a retried run back in the run queue. */
  constructor(
    private readonly requeue: (run: LocalRun) => void,
    private readonly clock: LocalClock,
  ) {
    super();
    this.events.setMaxListeners(0);
  }

  /** Tells waiters that a run changed. */
  changed(run: LocalRun): void {
    this.events.emit(run.id);
  }

  async getExecution(executionId: string): Promise<JobExecution | null> {
    const run = this.runs.get(executionId);
    return run ? snapshot(run) : null;
  }

  waitForFinal(executionId: string, timeoutMs: number): Promise<JobExecution> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const run = this.runs.get(executionId);
        if (run && isFinalState(run.state)) {
          cleanup();
          resolve(snapshot(run));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new WaitTimeoutError(executionId, timeoutMs, WAIT_TIMEOUT(executionId, timeoutMs)));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off(executionId, check);
      };
      this.events.on(executionId, check);
      check();
    });
  }

  async listExecutions(query: ExecutionQuery): Promise<ExecutionPage> {
    const matches = [...this.runs.values()]
      .filter((run) => query.jobId === undefined || run.definition.id === query.jobId)
      .filter((run) => query.tenantId === undefined || run.tenantId === query.tenantId)
      .filter((run) => !query.states || query.states.includes(run.state))
      .map(snapshot)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.executionId.localeCompare(a.executionId));
    return {
      items: matches.slice(query.offset, query.offset + query.limit),
      total: matches.length,
      offset: query.offset,
      limit: query.limit,
    };
  }

  async getExecutionLogs(executionId: string, limit: number): Promise<ExecutionLogs | null> {
    const run = this.runs.get(executionId);
    return run ? { lines: run.logs.slice(-limit), count: run.logs.length } : null;
  }

  async retry(executionId: string): Promise<RetryResult> {
    const run = this.runs.get(executionId);
    if (!run) return { status: 'unknown' };
    if (run.state !== 'failed') return { status: 'not-failed', state: run.state };
    Object.assign(run, { state: 'pending', attemptsMade: 0, failure: undefined, finishedAt: undefined });
    this.history(run.definition, 'failed').delete(run.id);
    this.requeue(run);
    return { status: 'retried' };
  }

  async remove(executionId: string): Promise<boolean> {
    const run = this.runs.get(executionId);
    if (!run || !isFinalState(run.state)) return false;
    this.runs.delete(executionId);
    return true;
  }

  /** Lists this process as an instance once its workers start: `active` holds the runs executing now. */
  describeWorkers(worker: { concurrency: number } | false, queues: string[], active: Set<unknown>): void {
    if (worker) this.instance = () => ({ queues, concurrency: worker.concurrency, running: active.size });
  }

  async listInstances(): Promise<InstanceInfo[]> {
    if (!this.instance) return [];
    const { instanceId, startedAt } = this;
    return [{ instanceId, ...PROCESS_IDENTITY, ...this.instance(), startedAt, lastBeatAt: new Date() }];
  }

  async queueDepths(): Promise<QueueDepth[]> {
    const depths = new Map<string, QueueDepth>();
    for (const run of this.runs.values()) {
      const name = run.definition.queue;
      const depth = depths.get(name) ?? {
        queue: name,
        waiting: 0,
        active: 0,
        delayed: 0,
        prioritized: 0,
        completed: 0,
        failed: 0,
      };
      if (run.state === 'pending') depth.waiting += 1;
      else if (run.state === 'running') depth.active += 1;
      else if (run.state === 'delayed') depth.delayed += 1;
      else if (run.state === 'completed' || run.state === 'skipped') depth.completed += 1;
      else depth.failed += 1;
      depths.set(name, depth);
    }
    return [...depths.values()];
  }

  async tenantBacklog(queue: string, top: number): Promise<TenantBacklog> {
    const counts = new Map<string | null, number>();
    for (const run of this.runs.values()) {
      if (run.state === 'pending' && run.definition.fairness && run.definition.queue === queue)
        counts.set(run.tenantId, (counts.get(run.tenantId) ?? 0) + 1);
    }
    return topTenants(queue, counts, top);
  }

  /** Records a run's final state, tells its waiters, and applies history retention. */
  finish(run: LocalRun, state: JobState, fields: Partial<LocalRun>): void {
    if (state === 'completed' || state === 'skipped') run.attemptsMade += 1;
    Object.assign(run, fields, { state, finishedAt: new Date(this.clock.now()) });
    if (state === 'completed') run.failure = undefined;
    this.changed(run);
    this.prune(run, state === 'failed' || state === 'cancelled' ? 'failed' : 'completed');
  }

  /** Ids of a job's finished runs of one kind, oldest finish first: what history retention trims. */
  private history(definition: JobDefinition, kind: 'completed' | 'failed'): Set<string> {
    const key = `${definition.id}\u0000${kind}`;
    let ids = this.finished.get(key);
    if (!ids) this.finished.set(key, (ids = new Set()));
    return ids;
  }

  /**
   * History retention, as BullMQ's removeOnComplete / removeOnFail would apply it: keep the newest `count`
   * finished runs of that kind, none older than `maxAgeSeconds`.
   */
  private prune(run: LocalRun, kind: 'completed' | 'failed'): void {
    // NOTE: trims from the oldest end of an insertion-ordered set: O(1) per finished run. Scanning every run held
    // in memory on each finish made a backlog of N runs cost O(N²) (ADR 0005).
    const ids = this.history(run.definition, kind);
    ids.delete(run.id);
    ids.add(run.id);
    const keep = run.definition.history[kind];
    const oldest = this.clock.now() - keep.maxAgeSeconds * 1000;
    for (const id of ids) {
      const finishedAt = this.runs.get(id)?.finishedAt?.getTime() ?? 0;
      if (ids.size <= keep.count && finishedAt >= oldest) break;
      ids.delete(id);
      this.runs.delete(id);
    }
  }
}
