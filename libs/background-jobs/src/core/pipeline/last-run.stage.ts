import { JobDefinition } from '../job-definition';
import { ScheduleStore } from '../ports/schedule-store.port';
import { Invocation, PipelineStage } from './pipeline-stage';

/** Records each run of a recurring job that gets past misfire and pause as its last run (`listRecurring`). */
export class LastRunStage implements PipelineStage {
  constructor(private readonly schedules: ScheduleStore) {}

  appliesTo(definition: JobDefinition): boolean {
    return definition.cron !== undefined;
  }

  async run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { definition, request } = invocation;
    // NOTE: first attempts only: a retry is the same run. One extra write per tick is cheap, one per enqueued job is not.
    if (request.attempt === 1) await this.schedules.recordLastRun(definition.id, request.executionId);
    return next();
  }
}
