import { JobInterceptor } from '../../contracts';
import { Invocation, PipelineStage } from './pipeline-stage';

/** The host's interceptors, in order, innermost in the pipeline. */
export class HostInterceptorsStage implements PipelineStage {
  constructor(private readonly interceptors: JobInterceptor[]) {}

  appliesTo(): boolean {
    return this.interceptors.length > 0;
  }

  run(invocation: Invocation, next: () => Promise<unknown>): Promise<unknown> {
    const call = (index: number): Promise<unknown> =>
      index === this.interceptors.length
        ? next()
        : Promise.resolve(this.interceptors[index].intercept(invocation.context, () => call(index + 1)));
    return call(0);
  }
}
