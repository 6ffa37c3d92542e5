/** Token under which the host provides its `TenantDirectory` (needed by per-tenant jobs). */
export const TENANT_DIRECTORY = Symbol('TENANT_DIRECTORY');

/** Lists the tenants a per-tenant job fans out to. Provided by the host. */
export interface TenantDirectory {
  listTenantIds(): Promise<string[]>;
}

/** The current tenant, carried through async work by nestjs-cls. Inject it anywhere. */
export abstract class TenantContext {
  /** Current tenant, `null` at host level or outside any context. */
  abstract get tenantId(): string | null;
  /** Run `fn` in a fresh context with the given tenant. */
  abstract run<R>(tenantId: string | null, fn: () => R): R;
}
