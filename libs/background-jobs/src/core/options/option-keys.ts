import { DedupeOptions, FairnessOptions, PipelineJobOptions, ScheduleOptions } from '../../contracts';
import { keysOf } from './unknown-keys';

/** The keys `@PipelineJob` accepts (the order is the one error messages list them in). */
export const JOB_OPTION_KEYS = keysOf<PipelineJobOptions>({
  id: true,
  cron: true,
  timezone: true,
  queue: true,
  tenancy: true,
  lock: true,
  retry: true,
  timeoutMs: true,
  history: true,
  replaces: true,
  enabled: true,
  misfire: true,
  misfireThresholdMs: true,
  schema: true,
  everyMs: true,
  startDate: true,
  endDate: true,
  data: true,
  fairness: true,
  rateLimit: true,
  concurrency: true,
  limits: true,
});

/** The keys `upsertSchedule` accepts. */
export const SCHEDULE_OPTION_KEYS = keysOf<ScheduleOptions>({
  id: true,
  cron: true,
  everyMs: true,
  timezone: true,
  data: true,
  tenantId: true,
  startDate: true,
  endDate: true,
  misfire: true,
  misfireThresholdMs: true,
});

/** The keys of `@PipelineJob({ fairness: { … } })`. */
export const FAIRNESS_OPTION_KEYS = keysOf<FairnessOptions>({ by: true, concurrencyPerTenant: true });

/** The keys of `enqueue(…, { dedupe: { … } })`. */
export const DEDUPE_OPTION_KEYS = keysOf<DedupeOptions>({ key: true, mode: true, ttlMs: true });
