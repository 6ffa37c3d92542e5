/** A per-tenant job cannot fan out: no `TENANT_DIRECTORY` is provided, or it listed something other than ids. */
export class TenantDirectoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TenantDirectoryError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
