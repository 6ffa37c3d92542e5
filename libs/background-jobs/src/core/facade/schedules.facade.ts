import {
  INVALID_SCHEDULE,
  InvalidJobInputError,
  JOB_ID_PATTERN_TEXT,
  NOT_RECURRING,
  RecurringJobInfo,
  SCHEDULE_ID_TAKEN,
  SCHEDULE_OF_DISABLED_JOB,
  ScheduleOptions,
} from '../../contracts';
import { isRecurring, JobDefinition } from '../job-definition';
import { payloadProblem } from '../payload';
import { isValidTenantId } from '../pipeline/fan-out';
import { decoratorSchedule, SCHEDULE_ID, scheduleProblem, ScheduleSpec } from '../schedule';
import { DEFAULTS } from '../defaults';
import { SCHEDULE_OPTION_KEYS } from '../options/option-keys';
import { resolveOption } from '../options/option-rule';
import { OPTION_RULES } from '../options/option-rules';
import { rejectUnknownKeys } from '../options/unknown-keys';
import { FacadeContext, JobRef } from './facade-context';

/** The facade's schedules: runtime schedules, the recurring list, pause and resume. */
export class SchedulesFacade {
  constructor(private readonly ctx: FacadeContext) {}

  async upsertSchedule(job: JobRef, options: ScheduleOptions & { data?: unknown }): Promise<RecurringJobInfo> {
    const definition = this.ctx.resolve(job);
    const id = (options as { id?: unknown } | undefined)?.id;
    const bad = (option: string, value: unknown, expected: string) =>
      new InvalidJobInputError(INVALID_SCHEDULE(id, option, value, expected));
    if (typeof options !== 'object' || options === null)
      throw bad('options', options, 'an object { id, cron | everyMs, … }');
    rejectUnknownKeys(options, SCHEDULE_OPTION_KEYS, (key, value, known) =>
      bad(`option "${key}"`, value, `one of ${known.join(', ')}`),
    );
    const { maxIdLength, minEveryMs } = this.ctx.options.bounds;
    if (typeof id !== 'string' || !SCHEDULE_ID.test(id) || id.length > maxIdLength)
      throw bad('id', id, `a string matching ${JOB_ID_PATTERN_TEXT} of at most ${maxIdLength} characters`);
    if (this.ctx.registry.get(id)) throw new InvalidJobInputError(SCHEDULE_ID_TAKEN(id, 'upsert'));
    if (!definition.enabled) throw new InvalidJobInputError(SCHEDULE_OF_DISABLED_JOB(id, definition.id));
    const problem = scheduleProblem(options, this.ctx.calendar, true, minEveryMs);
    if (problem) throw bad(problem.option, problem.value, problem.expected);
    const tenantId = options.tenantId ?? null;
    if (tenantId !== null && !isValidTenantId(tenantId))
      throw bad('tenantId', tenantId, 'null or a non-empty tenant id');
    const payload = payloadProblem(options.data, this.ctx.options.maxPayloadBytes).problem;
    if (payload) throw bad('data', '(the payload)', payload);
    const schedule: ScheduleSpec = {
      id,
      jobId: definition.id,
      source: 'runtime',
      cron: options.cron,
      everyMs: options.everyMs,
      timezone: options.timezone ?? DEFAULTS.timezone,
      data: options.data,
      tenantId,
      startDate: options.startDate,
      endDate: options.endDate,
      misfire: resolveOption(OPTION_RULES.misfire, 'misfire', options.misfire, definition.misfire, bad),
      misfireThresholdMs: resolveOption(
        OPTION_RULES.misfireThresholdMs,
        'misfireThresholdMs',
        options.misfireThresholdMs,
        definition.misfireThresholdMs,
        bad,
      ),
    };
    return this.ctx.schedules.upsert(definition, schedule);
  }

  async removeSchedule(scheduleId: string): Promise<boolean> {
    if (typeof scheduleId !== 'string' || !SCHEDULE_ID.test(scheduleId)) {
      throw new InvalidJobInputError(
        INVALID_SCHEDULE(scheduleId, 'id', scheduleId, `a string matching ${JOB_ID_PATTERN_TEXT}`),
      );
    }
    if (this.ctx.registry.get(scheduleId)) throw new InvalidJobInputError(SCHEDULE_ID_TAKEN(scheduleId, 'remove'));
    return this.ctx.schedules.remove(scheduleId);
  }

  async listRecurring(): Promise<RecurringJobInfo[]> {
    const [jobs, lastRuns] = await Promise.all([
      this.ctx.schedules.listRecurring(this.ctx.registry),
      this.ctx.schedules.lastRuns(),
    ]);
    return Promise.all(
      jobs.map(async (info) => {
        const lastId = lastRuns.get(info.scheduleId);
        const last = lastId ? await this.ctx.executions.getExecution(lastId) : null;
        return last
          ? {
              ...info,
              lastRun: {
                executionId: last.executionId,
                state: last.state,
                startedAt: last.startedAt,
                finishedAt: last.finishedAt,
              },
            }
          : info;
      }),
    );
  }

  async pause(job: JobRef): Promise<void> {
    const { definition, schedule } = await this.resolveSchedule(job, 'pause');
    await this.ctx.schedules.pause(definition, schedule);
  }

  async resume(job: JobRef): Promise<void> {
    const { definition, schedule } = await this.resolveSchedule(job, 'resume');
    await this.ctx.schedules.resume(definition, schedule);
  }

  private async resolveSchedule(
    job: JobRef,
    action: string,
  ): Promise<{ definition: JobDefinition; schedule: ScheduleSpec }> {
    if (typeof job === 'string' && !this.ctx.registry.get(job)) {
      const runtime = await this.ctx.schedules.runtime(job);
      if (!runtime) throw new InvalidJobInputError(NOT_RECURRING(job, action));
      return { definition: this.ctx.resolve(runtime.jobId), schedule: runtime };
    }
    const definition = this.ctx.resolve(job);
    if (!isRecurring(definition)) throw new InvalidJobInputError(NOT_RECURRING(definition.id, action));
    return { definition, schedule: decoratorSchedule(definition) };
  }
}
