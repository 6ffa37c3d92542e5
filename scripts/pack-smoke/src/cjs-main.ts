// The CommonJS NestJS 11 app: boots the real HTTP app on one transport and checks what a user would see.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { BackgroundJobs, BackgroundJobsHealthIndicator, JobExecution } from 'nestjs-background-jobs';
import { AppModule, smokeTransport } from './app.module.js';
import { SmokeRecorder } from './smoke.jobs.js';

async function check(type: string): Promise<void> {
  const app = await NestFactory.create(AppModule.forTransport(smokeTransport(type)), { logger: ['error', 'warn'] });
  try {
    await app.listen(0, '127.0.0.1');
    const response = await fetch(`${await app.getUrl()}/greet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': 'acme' },
      body: JSON.stringify({ name: 'packed app' }),
    });
    const execution = (await response.json()) as JobExecution<string>;
    const expected = 'hello packed app (ctx tenant acme, TenantContext acme)';
    if (execution.state !== 'completed' || execution.result !== expected || execution.tenantId !== 'acme') {
      throw new Error(
        `expected a completed run for tenant acme returning '${expected}', got ${JSON.stringify(execution)}`,
      );
    }
    // NOTE: the cron fires every second: 3 s is one period plus a 2 s margin for boot and a loaded CI machine.
    await app.get(SmokeRecorder).nextTick(3_000);
    const recurring = await app.get(BackgroundJobs).listRecurring();
    if (!recurring.some((r) => r.jobId === 'smoke-tick'))
      throw new Error('expected smoke-tick among the recurring jobs');
    // NOTE: this app never installs @nestjs/terminus: the health indicator must say how to install it.
    const health = await app
      .get(BackgroundJobsHealthIndicator)
      .isHealthy()
      .then(
        () => 'answered',
        (error: Error) => error.message,
      );
    if (!/needs @nestjs\/terminus, which is not installed.*Fix: npm install @nestjs\/terminus@\^11/.test(health)) {
      throw new Error(`expected isHealthy() to name the missing @nestjs/terminus, got: ${health}`);
    }
    console.log(
      `   ${type}: runNow through the HTTP route -> ${execution.state} for tenant ${execution.tenantId}; recurring smoke-tick ran; isHealthy() without @nestjs/terminus: "${health}"`,
    );
  } finally {
    await app.close();
  }
}

/** Without @nestjs/schedule installed, `{ type: 'local' }` must stop the boot with the install line. */
async function checkLocalWithoutSchedule(): Promise<void> {
  try {
    await check('local');
  } catch (error) {
    const message = (error as Error).message;
    if (!/needs @nestjs\/schedule, which is not installed.*Fix: npm install @nestjs\/schedule@\^6/.test(message))
      throw error;
    console.log(`   local without @nestjs/schedule: boot refused with "${message}"`);
    return;
  }
  throw new Error('the local transport booted without @nestjs/schedule installed');
}

const mode = process.argv[2] ?? 'bullmq';
(mode === 'local-without-schedule' ? checkLocalWithoutSchedule() : check(mode)).then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`pack-smoke (${mode}): FAILED: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
