import { Injectable, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PIPELINE_JOB_METADATA, PipelineJobOptions } from './contracts';

/** The one place `@PipelineJob` metadata is read. */
@Injectable()
export class PipelineJobMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getOptions(target: Type | Function | undefined): PipelineJobOptions | undefined {
    if (!target) return undefined;
    return this.reflector.get<PipelineJobOptions | undefined>(PIPELINE_JOB_METADATA, target);
  }
}
