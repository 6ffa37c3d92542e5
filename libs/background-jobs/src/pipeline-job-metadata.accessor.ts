import { Injectable, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JobEventName, ON_JOB_EVENT_METADATA, PIPELINE_JOB_METADATA, PipelineJobOptions } from './contracts';

/**
 * Every class `@PipelineJob` decorated in this process, so the explorer can name those no module provides.
 * NOTE: a module-level set, because decoration happens at import time, before any Nest container exists.
 */
const decoratedClasses = new Set<Function>();

/**
 * Every `@PipelineJob` class some app in this process registered. A process that boots several apps (a test file, a
 * bench) would otherwise warn in each app about the classes the others provide.
 */
const providedClasses = new WeakSet<Function>();

/** Called by `@PipelineJob` for each class it decorates. */
export function recordDecoratedJob(target: Function): void {
  decoratedClasses.add(target);
}

/** The one place `@PipelineJob` metadata is read. */
@Injectable()
export class PipelineJobMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getOptions(target: Type | Function | undefined): PipelineJobOptions | undefined {
    if (!target) return undefined;
    return this.reflector.get<PipelineJobOptions | undefined>(PIPELINE_JOB_METADATA, target);
  }

  /** The event names of an `@OnJobEvent` method, or undefined for any other method. */
  getEventNames(method: Function): JobEventName[] | undefined {
    return this.reflector.get<JobEventName[] | undefined>(ON_JOB_EVENT_METADATA, method);
  }

  /** Records that an app of this process registered `target` (a module provides it). */
  recordProvided(target: Function): void {
    providedClasses.add(target);
  }

  /** Every class decorated with `@PipelineJob` so far in this process that no app of this process has registered yet. */
  unprovidedClasses(): Function[] {
    return [...decoratedClasses].filter((target) => !providedClasses.has(target));
  }
}
