import { LimitSpec } from './admission/limit-spec';
import { BackgroundJob, HistoryOptions, JobLockOptions, JobTenancy } from '../contracts';

/** A validated `@PipelineJob` with every default applied. */
export interface JobDefinition {
  readonly id: string;
  readonly className: string;
  readonly jobClass: Function;
  readonly instance: BackgroundJob;
  readonly cron?: string;
  readonly everyMs?: number;
  readonly startDate?: Date;
  readonly endDate?: Date;
  /** Payload of the decorator schedule's ticks. */
  readonly data?: unknown;
  readonly timezone: string;
  readonly queue: string;
  readonly tenancy: JobTenancy;
  readonly lock?: JobLockOptions;
  readonly retry: { attempts: number; backoffMs: number };
  readonly timeoutMs: number;
  readonly history: Required<{ [K in keyof HistoryOptions]-?: { count: number; maxAgeSeconds: number } }>;
  readonly replaces: string[];
  readonly enabled: boolean;
  readonly misfire: 'skip' | 'run-once';
  readonly misfireThresholdMs: number;
  /** Per-tenant fairness: round robin between tenants, and the cap of each tenant's running runs when set. */
  readonly fairness?: { readonly concurrencyPerTenant?: number };
  /** Limits the job's runs count against (its own rateLimit and concurrency, then its shared limits), in order. */
  readonly limits?: readonly LimitSpec[];
  readonly schema?: { parse(data: unknown): unknown } | ((data: unknown) => unknown);
}

/** True when the definition should own a recurring schedule. */
export const isRecurring = (definition: JobDefinition): boolean =>
  definition.enabled && (typeof definition.cron === 'string' || typeof definition.everyMs === 'number');
