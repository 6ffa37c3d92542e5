import { BadRequestException } from '@nestjs/common';
import { ScheduleOptions } from '../contracts';
import { INVALID_SCHEDULE_BODY } from './operations.messages';

/**
 * Reads the JSON body of `PUT schedules/:id` into `upsertSchedule`'s arguments: `jobId` names the job, dates come
 * as ISO strings; every other field is passed on as is and checked by `upsertSchedule` itself (400 naming it).
 */
export function parseScheduleBody(id: string, body: unknown): { jobId: string; options: ScheduleOptions } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestException(INVALID_SCHEDULE_BODY('(body)', body, 'a JSON object { jobId, cron | everyMs, … }'));
  }
  const { jobId, startDate, endDate, ...rest } = body as Record<string, unknown>;
  if (typeof jobId !== 'string' || jobId.length === 0)
    throw new BadRequestException(INVALID_SCHEDULE_BODY('jobId', jobId, 'the id of a @PipelineJob'));
  if ('id' in rest)
    throw new BadRequestException(
      INVALID_SCHEDULE_BODY('id', rest.id, 'no id in the body: the schedule id is the path'),
    );
  const options = { ...rest, id } as unknown as ScheduleOptions & Record<string, unknown>;
  for (const [field, value] of [
    ['startDate', startDate],
    ['endDate', endDate],
  ] as const) {
    if (value === undefined) continue;
    const date = typeof value === 'string' ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime()))
      throw new BadRequestException(INVALID_SCHEDULE_BODY(field, value, 'an ISO 8601 date string'));
    options[field] = date;
  }
  return { jobId, options };
}
