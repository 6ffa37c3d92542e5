import { Injectable, Logger } from '@nestjs/common';
import type { HealthIndicatorService } from '@nestjs/terminus';
import { loadOptionalPeer, RunQueue } from '../core';
import { MASTERS_UNREACHABLE, MAXMEMORY_POLICY_WARNING, REPLICA_UNREACHABLE_WARNING } from './operations.messages';

const TERMINUS_PEER = {
  pkg: '@nestjs/terminus',
  feature: 'BackgroundJobsHealthIndicator',
  install: 'npm install @nestjs/terminus@^11 (NestJS 11) or @nestjs/terminus@^12 (NestJS 12).',
};

/** Options of `BackgroundJobsHealthIndicator.isHealthy`. */
export interface JobsHealthOptions {
  /**
   * Waiting + prioritized jobs (all queues) above which the check reports `down`.
   * @default Infinity (backlog reported, never judged)
   */
  maxBacklog?: number;
  /**
   * How long to wait for Redis before reporting `down`.
   * @default 3000
   */
  timeoutMs?: number;
}

/**
 * A @nestjs/terminus health indicator: `down` when Redis is unreachable, this instance's workers are not running or
 * the backlog exceeds `maxBacklog`; `up` otherwise, with `warnings` (and a logged warning) when Redis's
 * `maxmemory-policy` is not `noeviction`, since Redis may then evict queued jobs. Use it in your own `@HealthCheck()` route:
 * `health.check([() => jobsHealth.isHealthy('background-jobs')])`.
 */
@Injectable()
export class BackgroundJobsHealthIndicator {
  // NOTE: a session factory of our own, so hosts need not import TerminusModule into this module. @nestjs/terminus
  // is an optional peer, loaded at the first check: apps that never call isHealthy need not install it.
  private indicator?: Promise<HealthIndicatorService>;
  private readonly logger = new Logger('BackgroundJobs');
  private warnedPolicy?: string;

  constructor(private readonly transport: RunQueue) {}

  /**
   * Returns @nestjs/terminus's `HealthIndicatorResult` shape (declared here so that a host without terminus still
   * compiles against our types).
   */
  async isHealthy(
    key = 'background-jobs',
    options: JobsHealthOptions = {},
  ): Promise<Record<string, { status: 'up' | 'down'; [detail: string]: unknown }>> {
    this.indicator ??= loadOptionalPeer(TERMINUS_PEER, () => import('@nestjs/terminus')).then(
      (terminus) => new terminus.HealthIndicatorService(),
    );
    const session = (await this.indicator).check(key);
    const timeoutMs = options.timeoutMs ?? 3_000;
    let timer: NodeJS.Timeout | undefined;
    const health = await Promise.race([
      this.transport.health(),
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (!health) return session.down({ redis: 'down', message: `Redis did not answer within ${timeoutMs} ms.` });
    const backlog = health.queues.reduce((sum, q) => sum + q.waiting + q.prioritized, 0);
    // NOTE: the embedded transport keeps runs in memory: reporting a Redis there would mislead whoever reads /health.
    const store: Record<string, string> =
      health.store === 'memory' ? { store: 'memory' } : { redis: health.reachable ? 'up' : 'down' };
    const details = {
      ...store,
      maxmemoryPolicy: health.maxmemoryPolicy,
      workers: { expected: health.workersExpected, running: health.workersRunning },
      backlog,
      queues: health.queues,
      ...(health.nodes ? { nodes: health.nodes } : {}),
      ...(health.master ? { master: health.master } : {}),
    };
    if (!health.reachable) return session.down({ ...details, message: `Redis is unreachable: ${health.error}` });
    const down = (role: 'master' | 'replica') =>
      (health.nodes ?? []).filter((n) => n.role === role && !n.reachable).map((n) => n.address);
    if (down('master').length > 0) return session.down({ ...details, message: MASTERS_UNREACHABLE(down('master')) });
    if (health.workersRunning < health.workersExpected) {
      return session.down({
        ...details,
        message: `${health.workersExpected - health.workersRunning} of ${health.workersExpected} workers are not running.`,
      });
    }
    if (options.maxBacklog !== undefined && backlog > options.maxBacklog) {
      return session.down({
        ...details,
        message: `Backlog of ${backlog} waiting jobs exceeds maxBacklog ${options.maxBacklog}.`,
      });
    }
    const warnings: string[] = [];
    if (health.maxmemoryPolicy && health.maxmemoryPolicy !== 'noeviction') {
      const warning = MAXMEMORY_POLICY_WARNING(health.maxmemoryPolicy);
      if (this.warnedPolicy !== health.maxmemoryPolicy) this.logger.warn(warning);
      this.warnedPolicy = health.maxmemoryPolicy;
      warnings.push(warning);
    }
    if (down('replica').length > 0) warnings.push(REPLICA_UNREACHABLE_WARNING(down('replica')));
    return warnings.length > 0 ? session.up({ ...details, warnings }) : session.up(details);
  }
}
