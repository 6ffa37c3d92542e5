import { PAUSED_SKIP } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { isTick, RunKind } from '../run-kind';
import { ScheduleStore } from '../ports/schedule-store.port';
import { SkipRun } from '../run.types';
import { Invocation, PipelineStage } from './pipeline-stage';

/** A tick of a paused schedule queued before the pause landed (on any instance) is skipped, not run. */
export class PauseStage implements PipelineStage {
  constructor(private readonly schedules: ScheduleStore) {}

  appliesTo(_definition: JobDefinition, kind: RunKind): boolean {
    return isTick(kind);
  }

  async run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { definition, request } = invocation;
    if (!isTick(request.kind)) return next();
    const scheduleId = request.schedule?.id ?? definition.id;
    if (await this.schedules.isPaused(scheduleId)) return new SkipRun(PAUSED_SKIP(scheduleId), 'paused');
    return next();
  }
}
