import { Injectable } from '@nestjs/common';
import { BackgroundJob, JobContext, PipelineJob, TenantContext } from 'nestjs-background-jobs';

/** Collects what the jobs saw, so the app's checks can await it instead of sleeping. */
@Injectable()
export class SmokeRecorder {
  private readonly ticks: Array<() => void> = [];
  tickCount = 0;

  tick(): void {
    this.tickCount += 1;
    this.ticks.splice(0).forEach((resolve) => resolve());
  }

  /** Resolves at the next recurring tick; rejects after `ms`. */
  nextTick(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no recurring tick within ${ms} ms`)), ms);
      this.ticks.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Enqueued with the caller's tenant: returns who it greeted and the tenant it ran for. */
@PipelineJob({ id: 'smoke-greet' })
export class GreetJob implements BackgroundJob<{ name: string }, string> {
  constructor(private readonly tenant: TenantContext) {}

  execute(ctx: JobContext<{ name: string }>): string {
    return `hello ${ctx.data.name} (ctx tenant ${ctx.tenantId}, TenantContext ${this.tenant.tenantId})`;
  }
}

/** A recurring job that fires every second. */
@PipelineJob({ id: 'smoke-tick', cron: '* * * * * *' })
export class TickJob implements BackgroundJob {
  constructor(private readonly recorder: SmokeRecorder) {}

  execute(): void {
    this.recorder.tick();
  }
}
