/** Where a run is in its life. BullMQ itself knows only completed and failed; the framework adds the rest. */
export type JobState = 'pending' | 'delayed' | 'running' | 'completed' | 'failed' | 'cancelled' | 'skipped';

/** The states a run never leaves. */
export const FINAL_STATES: readonly JobState[] = ['completed', 'failed', 'cancelled', 'skipped'];

/** Whether a run in `state` has ended for good. */
export const isFinalState = (state: JobState): boolean => FINAL_STATES.includes(state);

/** Why a run failed. `transient` runs were retried until attempts ran out; the others never are. */
export type FailureKind = 'transient' | 'permanent' | 'cancelled' | 'timeout' | 'lock-lost';

/** Job tenancy: `host` runs once with `tenantId: null`; `per-tenant` runs once per tenant of the `TenantDirectory`. */
export type JobTenancy = 'host' | 'per-tenant';
