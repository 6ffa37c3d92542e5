import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { BackgroundJobsHealthIndicator } from 'nestjs-background-jobs';

/** Liveness/readiness for probes: left open (it shows states and counts, never payloads). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly jobs: BackgroundJobsHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.jobs.isHealthy('background-jobs')]);
  }
}
