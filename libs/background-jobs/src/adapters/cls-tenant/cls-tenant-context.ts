import { ClsService } from 'nestjs-cls';
import { TenantContext } from '../../contracts';

/** TenantContext on nestjs-cls: the tenant lives under one CLS key, shared with the host's own middleware. */
export class ClsTenantContext extends TenantContext {
  constructor(
    private readonly cls: ClsService,
    private readonly clsKey: string,
  ) {
    super();
  }

  get tenantId(): string | null {
    if (!this.cls.isActive()) return null;
    const value: unknown = this.cls.get(this.clsKey);
    return typeof value === 'string' ? value : null;
  }

  run<R>(tenantId: string | null, fn: () => R): R {
    // NOTE: runWith gives a fresh store: nothing of the caller's context leaks into the run.
    return this.cls.runWith({ [this.clsKey]: tenantId } as never, fn);
  }
}
