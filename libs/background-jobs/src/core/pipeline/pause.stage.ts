import { PAUSED_SKIP } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { ScheduleStore } from '../ports/schedule-store.port';
import { SkipRun } from '../run.types';
import { Invocation, PipelineStage } from './pipeline-stage';

/** A tick of a paused job queued before the pause landed (on any instance) is skipped, not run. */
export class PauseStage implements PipelineStage {
  constructor(private readonly schedules: ScheduleStore) {}

  appliesTo(definition: JobDefinition): boolean {
    return definition.cron !== undefined;
  }

  async run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { definition, request } = invocation;
    if (request.fromSchedule && (await this.schedules.isPaused(definition.id))) return new SkipRun(PAUSED_SKIP(definition.id), 'paused');
    return next();
  }
}
