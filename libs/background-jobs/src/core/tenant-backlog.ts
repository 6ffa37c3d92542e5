/** Runs queued per tenant of one fair queue: the `top` tenants with the most, and the rest summed up. */
export interface TenantBacklog {
  queue: string;
  /** Most queued first; `tenantId: null` is the host-level runs. */
  tenants: Array<{ tenantId: string | null; queued: number }>;
  /** Tenants with runs queued beyond the top ones, and their runs. */
  others: { tenants: number; queued: number };
}

/** The `top` largest of `counts` (tenant → queued runs, zeros left out), the rest summed into `others`. */
export function topTenants(queue: string, counts: Map<string | null, number>, top: number): TenantBacklog {
  const sorted = [...counts].filter(([, queued]) => queued > 0).sort((a, b) => b[1] - a[1]);
  const rest = sorted.slice(top);
  return {
    queue,
    tenants: sorted.slice(0, top).map(([tenantId, queued]) => ({ tenantId, queued })),
    others: { tenants: rest.length, queued: rest.reduce((sum, [, queued]) => sum + queued, 0) },
  };
}
