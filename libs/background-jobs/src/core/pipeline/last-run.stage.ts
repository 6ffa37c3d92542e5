import { isRecurring, JobDefinition } from '../job-definition';
import { isTick, RunKind } from '../run-kind';
import { ScheduleStore } from '../ports/schedule-store.port';
import { Invocation, PipelineStage } from './pipeline-stage';

/** Records each tick that gets past misfire and pause as its schedule's last run (`listRecurring`). */
export class LastRunStage implements PipelineStage {
  constructor(private readonly schedules: ScheduleStore) {}

  appliesTo(definition: JobDefinition, kind: RunKind): boolean {
    return isTick(kind) || isRecurring(definition);
  }

  async run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const { definition, request } = invocation;
    // NOTE: first attempts only: a retry is the same run. A tick records under its schedule's id; any other run of a
    // job with a decorator schedule (enqueued, triggered) under the job's id. One extra write per tick is cheap;
    // one per enqueued run of a job that has no schedule of its own is not made.
    if (request.attempt === 1) {
      const scheduleId = isTick(request.kind)
        ? (request.schedule?.id ?? definition.id)
        : isRecurring(definition)
          ? definition.id
          : undefined;
      if (scheduleId) await this.schedules.recordLastRun(scheduleId, request.executionId);
    }
    return next();
  }
}
