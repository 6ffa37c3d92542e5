import { LIMIT_KEY_FAILED } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { fansOut } from '../run-kind';
import { JobRunFailure, RunRequest } from '../run.types';
import { AdmissionCheck, checkId } from './limit-spec';

/** The checks of definitions whose every limit counts per job (the same for each run): made once, never changed. */
const perJob = new WeakMap<JobDefinition, AdmissionCheck[]>();

/** The checks one run of `definition` counts against (none for a fan-out tick, which only enqueues its children). */
export function admissionChecks(definition: JobDefinition, request: RunRequest): AdmissionCheck[] {
  const limits = definition.limits;
  if (!limits || limits.length === 0 || fansOut(request.kind)) return [];
  const cached = perJob.get(definition);
  if (cached) return cached;
  const checks = checksOf(definition, request);
  if (limits.every((spec) => spec.key === 'job')) perJob.set(definition, checks);
  return checks;
}

function checksOf(definition: JobDefinition, request: RunRequest): AdmissionCheck[] {
  const limits = definition.limits as NonNullable<JobDefinition['limits']>;
  return limits.map((spec) => {
    let key: string;
    if (spec.key === 'job') key = '';
    else if (spec.key === 'tenant') key = request.tenantId ?? '';
    else {
      let value: unknown;
      try {
        value = spec.key({ data: request.data, tenantId: request.tenantId });
      } catch (error) {
        value = error;
      }
      if (typeof value !== 'string') {
        const why = value instanceof Error ? value.message : `returned ${typeof value}`;
        throw new JobRunFailure('permanent', LIMIT_KEY_FAILED(definition.id, spec.name, why));
      }
      key = value;
    }
    return {
      id: checkId(spec.scope, spec.name, key),
      limit: spec.name,
      key,
      kind: spec.kind,
      max: spec.max,
      durationMs: spec.durationMs,
    };
  });
}
