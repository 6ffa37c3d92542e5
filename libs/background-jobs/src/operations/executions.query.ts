import { BadRequestException } from '@nestjs/common';
import { JobState } from '../contracts';
import { DEFAULTS, ExecutionQuery, JobRegistry, rejectUnknownKeys } from '../core';
import { CONFLICTING_QUERY, INVALID_QUERY } from './operations.messages';

import { JOB_STATES as STATES } from './operations.constants';
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = DEFAULTS.pageSize;
const KNOWN = ['state', 'jobId', 'tenantId', 'offset', 'limit', 'page', 'size'];

// NOTE: hand-written rather than class-validator + ValidationPipe: seven query fields do not justify making
// class-validator and class-transformer peers of every host.
/**
 * Parses `GET executions` query parameters: `state` (comma-separated), `jobId`, `tenantId` (`-` for host-level
 * runs), and `offset`/`limit` or `page`/`size`. Throws a 400 naming the field.
 */
export function parseExecutionsQuery(raw: Record<string, unknown>, registry: JobRegistry): ExecutionQuery {
  rejectUnknownKeys(
    raw,
    KNOWN,
    (key, value, known) =>
      new BadRequestException(INVALID_QUERY(key, value, `one of the parameters ${known.join(', ')}`)),
  );
  const query: ExecutionQuery = { offset: 0, limit: DEFAULT_PAGE_SIZE };
  const state = single(raw, 'state');
  if (state !== undefined) {
    const states = state.split(',').map((s) => s.trim());
    const bad = states.find((s) => !STATES.includes(s as JobState));
    if (bad !== undefined)
      throw new BadRequestException(
        INVALID_QUERY('state', bad, `one or more (comma-separated) of ${STATES.join(', ')}`),
      );
    query.states = states as JobState[];
  }
  const jobId = single(raw, 'jobId');
  if (jobId !== undefined) {
    if (!registry.get(jobId)) {
      throw new BadRequestException(
        INVALID_QUERY(
          'jobId',
          jobId,
          `a registered job id: ${
            registry
              .all()
              .map((d) => d.id)
              .join(', ') || '(none)'
          }`,
        ),
      );
    }
    query.jobId = jobId;
  }
  const tenantId = single(raw, 'tenantId');
  if (tenantId !== undefined) {
    if (tenantId.length === 0 || tenantId.length > 128) {
      throw new BadRequestException(
        INVALID_QUERY('tenantId', tenantId, "a tenant id of 1 to 128 characters, or '-' for host-level runs"),
      );
    }
    query.tenantId = tenantId === '-' ? null : tenantId;
  }
  const offset = integer(raw, 'offset', 0);
  const limit = integer(raw, 'limit', 1, MAX_PAGE_SIZE);
  const page = integer(raw, 'page', 1);
  const size = integer(raw, 'size', 1, MAX_PAGE_SIZE);
  const offsetStyle = offset !== undefined ? 'offset' : limit !== undefined ? 'limit' : undefined;
  const pageStyle = page !== undefined ? 'page' : size !== undefined ? 'size' : undefined;
  if (offsetStyle && pageStyle) throw new BadRequestException(CONFLICTING_QUERY(offsetStyle, pageStyle));
  if (pageStyle) {
    query.limit = size ?? DEFAULT_PAGE_SIZE;
    query.offset = ((page ?? 1) - 1) * query.limit;
  } else {
    query.offset = offset ?? 0;
    query.limit = limit ?? DEFAULT_PAGE_SIZE;
  }
  return query;
}

function single(raw: Record<string, unknown>, field: string): string | undefined {
  const value = raw[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequestException(INVALID_QUERY(field, value, 'a single value'));
  return value;
}

function integer(
  raw: Record<string, unknown>,
  field: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const value = single(raw, field);
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new BadRequestException(
      INVALID_QUERY(
        field,
        value,
        max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`,
      ),
    );
  }
  return n;
}
