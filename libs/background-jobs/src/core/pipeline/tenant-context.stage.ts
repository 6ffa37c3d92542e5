import { TenantContext } from '../../contracts';
import { Invocation, PipelineStage } from './pipeline-stage';

/** Every run in a fresh tenant context, restored from the job, so nothing leaks between concurrent runs. */
export class TenantContextStage implements PipelineStage {
  constructor(private readonly tenant: TenantContext) {}

  run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    return this.tenant.run(invocation.request.tenantId, next);
  }
}
