import { Injectable } from '@nestjs/common';
import { DUPLICATE_JOB_ID, JobDefinitionError } from '../contracts';
import { isRecurring, JobDefinition } from './job-definition';

/** The validated job definitions of this app, filled once at bootstrap by the explorer. */
@Injectable()
export class JobRegistry {
  private readonly byId = new Map<string, JobDefinition>();
  private readonly byClass = new Map<Function, JobDefinition>();

  register(definition: JobDefinition): void {
    const existing = this.byId.get(definition.id);
    if (existing) {
      throw new JobDefinitionError(DUPLICATE_JOB_ID(definition.id, existing.className, definition.className));
    }
    this.byId.set(definition.id, definition);
    this.byClass.set(definition.jobClass, definition);
  }

  get(id: string): JobDefinition | undefined {
    return this.byId.get(id);
  }

  getByClass(jobClass: Function): JobDefinition | undefined {
    return this.byClass.get(jobClass);
  }

  all(): JobDefinition[] {
    return [...this.byId.values()];
  }

  recurring(): JobDefinition[] {
    return this.all().filter(isRecurring);
  }

  /** Distinct queue names used by this app's jobs. */
  queues(): string[] {
    return [...new Set(this.all().map((d) => d.queue))];
  }
}
