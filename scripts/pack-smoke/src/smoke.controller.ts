import { Body, Controller, Post } from '@nestjs/common';
import { BackgroundJobs, JobExecution } from 'nestjs-background-jobs';
import { GreetJob } from './smoke.jobs.js';

@Controller()
export class SmokeController {
  constructor(private readonly jobs: BackgroundJobs) {}

  /** Enqueues GreetJob with the caller's tenant (set by ClsModule's middleware from x-tenant-id) and waits for it. */
  @Post('greet')
  greet(@Body() body: { name: string }): Promise<JobExecution<string>> {
    return this.jobs.runNow(GreetJob, { data: { name: body.name }, waitTimeoutMs: 20_000 });
  }
}
