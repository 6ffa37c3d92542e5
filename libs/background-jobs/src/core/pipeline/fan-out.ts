import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import {
  BAD_TENANT_LISTING,
  INVALID_TENANT_IDS_SKIPPED,
  NO_TENANT_DIRECTORY,
  TenantDirectory,
  TenantDirectoryError,
} from '../../contracts';
import { JobDefinition } from '../job-definition';
import { RunQueue } from '../ports/run-queue.port';
import { RunContext } from './run-context';

// NOTE: printable = no control characters (C0, DEL, C1) and no bidirectional controls (U+061C, U+200E, U+200F,
// U+202A–U+202E, U+2066–U+2069): a right-to-left override in a tenant id would show one tenant's name as another's
// in logs and on the dashboard.
// eslint-disable-next-line no-control-regex
const NON_PRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** True for a tenant id the framework accepts: a non-empty string of at most 128 printable characters. */
export const isValidTenantId = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= 128 && !NON_PRINTABLE.test(value);

/** What a fan-out run returns. */
export interface FanOutResult {
  tenants: number;
  children: string[];
  invalidTenantIds?: unknown[];
}

/**
 * Child execution id for (job, parent run, tenant): the same parent tick always yields the same ids, so a
 * retried fan-out never doubles a child.
 */
export function childExecutionId(jobId: string, parentExecutionId: string, tenantId: string): string {
  const digest = createHash('sha256').update(`${jobId}\u0000${parentExecutionId}\u0000${tenantId}`).digest('hex');
  return `${jobId.replace(/:/g, '.')}.t.${digest.slice(0, 32)}`;
}

/**
 * The tenants a per-tenant job runs for: the directory's ids, each once; invalid ids are left out and logged.
 * TenantDirectoryError when there is no directory or its listing is not an array.
 */
export async function tenantsOf(
  definition: JobDefinition,
  directory: TenantDirectory | undefined,
  logger: Logger,
): Promise<{ tenants: string[]; invalid: unknown[] }> {
  if (!directory) throw new TenantDirectoryError(NO_TENANT_DIRECTORY(definition.id));
  const listed = await directory.listTenantIds();
  if (!Array.isArray(listed)) {
    throw new TenantDirectoryError(BAD_TENANT_LISTING(definition.id, typeof listed));
  }
  const tenants = [...new Set(listed.filter(isValidTenantId))];
  const invalid = listed.filter((t) => !isValidTenantId(t));
  if (invalid.length) {
    logger.error(INVALID_TENANT_IDS_SKIPPED(definition.id, invalid));
  }
  return { tenants, invalid };
}

/** A per-tenant job's tick: one child run per tenant of the directory, each independent of the others. */
export async function fanOut(
  definition: JobDefinition,
  context: RunContext,
  directory: TenantDirectory | undefined,
  runs: RunQueue,
  logger: Logger,
): Promise<FanOutResult> {
  const { tenants, invalid } = await tenantsOf(definition, directory, logger);
  const children = await runs.enqueueMany(
    definition,
    tenants.map((tenantId) => ({
      id: childExecutionId(definition.id, context.executionId, tenantId),
      tenantId,
      data: context.data,
      kind: 'fan-out-child' as const,
    })),
  );
  return invalid.length
    ? { tenants: tenants.length, children, invalidTenantIds: invalid }
    : { tenants: tenants.length, children };
}
