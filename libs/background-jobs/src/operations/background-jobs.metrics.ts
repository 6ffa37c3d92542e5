import { Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { JobEvent } from '../contracts';
import { AdmissionTallies, ExecutionReader, JobEvents, JobRegistry } from '../core';
import { RunTallies } from './run-tallies';

/** Tenants per fair queue the backlog gauge names; the rest are summed under `tenant="(others)"`. */
const BACKLOG_TENANTS = 10;
/** Keys per limit the admission gauges name; the rest are summed under `key="(others)"`. */
const LIMIT_KEYS = 10;

/**
 * Prometheus metrics of this module, on a registry of its own (merge it into yours with
 * `Registry.merge([register, metrics.registry])`, or scrape `GET <operations.path>/metrics`):
 *
 * - `background_jobs_runs_total{job, outcome, failure_kind}`: attempts by outcome (completed, skipped, failed)
 *   and, for failed ones, failure kind; skipped counts lock-busy runs, missed ticks (misfire) and a paused job's ticks
 * - `background_jobs_run_duration_seconds{job, outcome}`: attempt duration
 * - `background_jobs_lock_skips_total{job}`: attempts the pipeline skipped because the job's lock was held
 * - `background_jobs_queue_depth{queue, state}`: jobs per BullMQ state, read at scrape time
 * - `background_jobs_tenant_backlog{queue, tenant}`: runs of fair jobs queued per tenant, read at scrape time: the 10
 *   tenants with the most (`tenant="(host)"` for host-level runs) and `tenant="(others)"` for the rest, so at most 11
 *   series per fair queue whatever the number of tenants
 * - `background_jobs_limit_admitted{limit, key}`, `background_jobs_limit_held{limit, key}`,
 *   `background_jobs_limit_in_use{limit, key}`: flow control on this instance (docs/flow-control.md), the 10 busiest
 *   keys of each limit (`key="(all)"` for the key `'job'`) and `key="(others)"` for the rest
 */
@Injectable()
export class BackgroundJobsMetrics {
  /** This module's registry; never the global default, so several apps in one process do not collide. */
  readonly registry = new Registry();
  private readonly tallies: RunTallies;

  constructor(executions: ExecutionReader, events: JobEvents, registry: JobRegistry, admissions: AdmissionTallies) {
    const registers = [this.registry];
    this.tallies = new RunTallies(this.registry);
    const perLimit = [
      [
        'background_jobs_limit_admitted',
        'admitted',
        'Runs this instance admitted per limit and key, since it started.',
      ],
      [
        'background_jobs_limit_held',
        'held',
        'Times a run was held back per limit and key on this instance, since it started.',
      ],
      ['background_jobs_limit_in_use', 'inUse', 'Slots of concurrency limits held by runs running on this instance.'],
    ] as const;
    for (const [name, field, help] of perLimit) {
      new Gauge({
        name,
        help: `${help} The ${LIMIT_KEYS} busiest keys, the rest as key="(others)".`,
        labelNames: ['limit', 'key'],
        registers,
        collect() {
          this.reset();
          for (const { limit, key, tally } of admissions.top(LIMIT_KEYS)) this.set({ limit, key }, tally[field]);
        },
      });
    }
    new Gauge({
      name: 'background_jobs_queue_depth',
      help: 'Jobs per queue and BullMQ state.',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const depth of await executions.queueDepths()) {
          const { queue, ...counts } = depth;
          for (const [state, count] of Object.entries(counts)) this.set({ queue, state }, count);
        }
      },
    });
    new Gauge({
      name: 'background_jobs_tenant_backlog',
      help: 'Runs of fair jobs queued per tenant: the 10 tenants with the most, the rest as tenant="(others)".',
      labelNames: ['queue', 'tenant'],
      registers,
      async collect() {
        this.reset();
        for (const queue of BackgroundJobsMetrics.fairQueues(registry)) {
          const backlog = await executions.tenantBacklog(queue, BACKLOG_TENANTS);
          for (const { tenantId, queued } of backlog.tenants) this.set({ queue, tenant: tenantId ?? '(host)' }, queued);
          this.set({ queue, tenant: '(others)' }, backlog.others.queued);
        }
      },
    });
    events.on(
      ['completed', 'skipped', 'failed', 'retrying', 'cancelled'],
      (event) => this.record(event as JobEvent<'completed'>),
      'The metrics',
    );
  }

  private static fairQueues(registry: JobRegistry): string[] {
    return [
      ...new Set(
        registry
          .all()
          .filter((d) => d.fairness)
          .map((d) => d.queue),
      ),
    ];
  }

  /** One finished attempt, from the job events (the hook `@OnJobEvent` methods and the run logs use too). */
  private record(event: JobEvent<'completed' | 'skipped' | 'failed' | 'retrying' | 'cancelled'>): void {
    const outcome = event.name === 'completed' || event.name === 'skipped' ? event.name : 'failed';
    const failureKind = 'failure' in event ? event.failure.kind : 'none';
    this.tallies.record(
      event.jobId,
      outcome,
      failureKind,
      event.durationMs / 1000,
      event.name === 'skipped' && event.kind === 'lock-busy',
    );
  }
}
