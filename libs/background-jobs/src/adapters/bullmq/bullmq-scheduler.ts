import { JobSchedulerJson, Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import { JobDefinition, ScheduleSpec } from '../../core';
import { JobEnvelope } from './bullmq-envelope';
import { jobOptions } from './bullmq-queues';

/** Writes one schedule as its BullMQ job scheduler (created or updated in place under the schedule id). */
export async function writeScheduler(queue: Queue, definition: JobDefinition, spec: ScheduleSpec): Promise<void> {
  // NOTE: BullMQ creates nothing for an end date already past (and leaves an existing scheduler as it was).
  if (spec.endDate && spec.endDate.getTime() <= Date.now()) {
    await queue.removeJobScheduler(spec.id);
    return;
  }
  const data: JobEnvelope = {
    bgj: 1,
    tenantId: spec.tenantId,
    fp: fingerprint(definition, spec),
    sched: {
      id: spec.id,
      src: spec.source === 'runtime' ? 'r' : 'd',
      tz: spec.timezone,
      misfire: spec.misfire,
      thr: spec.misfireThresholdMs,
    },
  };
  const mark = data.sched as NonNullable<JobEnvelope['sched']>;
  if (spec.cron !== undefined) mark.cron = spec.cron;
  if (spec.everyMs !== undefined) mark.every = spec.everyMs;
  if (spec.endDate) mark.end = spec.endDate.getTime();
  if (spec.data !== undefined) data.payload = spec.data;
  if (definition.tenancy === 'per-tenant' && spec.tenantId === null) data.kind = 'fan-out';
  const repeat = spec.cron !== undefined ? { pattern: spec.cron, tz: spec.timezone } : { every: spec.everyMs };
  await queue.upsertJobScheduler(
    spec.id,
    { ...repeat, startDate: spec.startDate, endDate: spec.endDate },
    { name: definition.id, data, opts: jobOptions(definition) },
  );
}

export const schedulerId = (scheduler: JobSchedulerJson): string => scheduler.key ?? scheduler.id ?? scheduler.name;

/** What, when changed, must rewrite a scheduler. */
export function fingerprint(definition: JobDefinition, spec: ScheduleSpec): string {
  const { retry, history, tenancy, id } = definition;
  return createHash('sha1')
    .update(JSON.stringify([id, retry, history, tenancy, spec]))
    .digest('hex')
    .slice(0, 16);
}

export const describeTiming = (spec: ScheduleSpec): string =>
  spec.cron !== undefined ? `${spec.cron} ${spec.timezone}` : `every ${spec.everyMs} ms`;
