// One sample-app process for the multi-process test: boots the sample app from its environment (DATABASE_URL,
// DATABASE_SCHEMA; no REDIS_URL, so each process is an instance of its own), prints "ready", waits for "go" on
// stdin so every process starts together, runs the retry processor once through the pipeline (its schedule
// paused) and prints the run as one JSON line.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { once } from 'node:events';
import { BackgroundJobs } from 'nestjs-background-jobs';
import { AppModule } from '../../../apps/sample-app/src/app.module';
import { readSampleConfig } from '../../../apps/sample-app/src/sample-app.config';

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(readSampleConfig()), {
    logger: false,
    abortOnError: false,
  });
  const jobs = app.get(BackgroundJobs);
  // NOTE: embedded, a pause lives in this process only: it keeps the */2 tick from adding a run to the count.
  await jobs.pause('notification-retry-processor-pipeline');
  process.stdout.write('ready\n');
  await once(process.stdin, 'data');
  const run = await jobs.runNow('notification-retry-processor-pipeline');
  process.stdout.write(
    `${JSON.stringify({ pid: process.pid, state: run.state, result: run.result, failure: run.failure })}\n`,
  );
  await app.close();
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
