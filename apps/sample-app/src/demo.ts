import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { BackgroundJobs, JobExecution } from 'nestjs-background-jobs';
import { AppModule } from './app.module';
import {
  CampaignCleanupResult,
  CampaignSchedulerResult,
  CleanupResult,
  ExpireStaleRetriesResult,
  NotificationReport,
  NotificationSeeder,
  ProcessDueRetriesResult,
  WorkflowExecutorResult,
} from './domain';
import { PIPELINE_SCHEDULES } from './notification.schedules';
import { describeBackends, readSampleConfig } from './sample-app.config';

/**
 * `npm run demo`: boots the sample app on its defaults (embedded transport without REDIS_URL, PGlite without
 * DATABASE_URL), seeds the notification domain, runs each of the six migrated jobs once through the pipeline
 * (`BackgroundJobs.runNow`), prints what each did, and exits 0 only when all six completed.
 */
async function demo(): Promise<number> {
  const config = readSampleConfig();
  if (config.mode !== 'pipeline') throw new Error('npm run demo runs the pipeline jobs: unset JOBS_MODE (or set JOBS_MODE=pipeline).');
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error', 'warn'], abortOnError: false });
  try {
    const jobs = app.get(BackgroundJobs);
    // NOTE: embedded, pausing is in-memory and dies with this process: it keeps a cron tick (e.g. the executor at an
    // even minute) from running a job between the seeding and the demo's own run. On BullMQ a pause would be
    // persisted for every instance of the prefix, so there the schedules are left alone.
    if (!config.redisUrl) for (const { id } of PIPELINE_SCHEDULES) await jobs.pause(id);
    const seed = await app.get(NotificationSeeder).seedDemo();
    console.log(
      `Seeded ${seed.tenants.length} tenants (${seed.tenants.join(', ')}): ${seed.dueRetries} due retries, ${seed.staleRetries} expired ones, ` +
        `${seed.finishedRetries} finished ones, ${seed.oldDeadLetters} old dead letters, ${seed.dueCampaigns} due campaigns, ` +
        `${seed.completedCampaigns} old completed campaigns ` +
        `(${describeBackends(config)}).\n`,
    );
    const report = app.get(NotificationReport);
    const crons = new Map((await jobs.listRecurring()).map((info) => [info.jobId, info.cron]));
    const rows: string[][] = [];
    let allCompleted = true;
    for (const { id } of PIPELINE_SCHEDULES) {
      const started = Date.now();
      let state: string;
      let effect: string;
      let duration = 0;
      try {
        const execution = await jobs.runNow(id, { waitTimeoutMs: 60_000 });
        state = execution.state;
        duration = execution.startedAt && execution.finishedAt ? execution.finishedAt.getTime() - execution.startedAt.getTime() : Date.now() - started;
        effect = execution.state === 'completed' ? await describeEffect(id, execution, report) : (execution.failure?.message ?? execution.skipReason ?? '');
      } catch (error) {
        state = 'error';
        duration = Date.now() - started;
        effect = (error as Error).message;
      }
      if (state !== 'completed') allCompleted = false;
      rows.push([id, crons.get(id) ?? '?', state, `${duration} ms`, effect]);
    }
    console.log(table(['job id', 'cron', 'state', 'duration', 'effect'], rows));
    console.log(allCompleted ? '\nAll six jobs completed.' : '\nSome jobs did not complete: see the state column.');
    return allCompleted ? 0 : 1;
  } finally {
    await app.close();
  }
}

/** One line on what a completed run did; the jobs that send messages also report duplicate sends so far. */
async function describeEffect(id: string, execution: JobExecution, report: NotificationReport): Promise<string> {
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const duplicates = async () => plural((await report.deliveryCounts()).duplicateSends, 'duplicate delivery', 'duplicate deliveries');
  switch (id) {
    case 'notification-deadletter-cleanup-pipeline': {
      const r = execution.result as { deadLetters: CleanupResult; staleRetries: CleanupResult };
      return `${plural(r.deadLetters.deleted, 'dead letter')} and ${plural(r.staleRetries.deleted, 'finished retry', 'finished retries')} deleted`;
    }
    case 'notification-retry-expire-pipeline': {
      const r = execution.result as ExpireStaleRetriesResult;
      return `${plural(r.expired, 'stale retry', 'stale retries')} expired into dead letters`;
    }
    case 'notification-retry-processor-pipeline': {
      const r = execution.result as ProcessDueRetriesResult;
      return `${plural(r.dispatched, 'retry', 'retries')} dispatched, ${r.failed} failed (rescheduled), ${await duplicates()}`;
    }
    case 'campaign-cleanup-pipeline': {
      const r = execution.result as CampaignCleanupResult;
      return `${plural(r.softDeleted, 'completed campaign')} soft-deleted`;
    }
    case 'campaign-scheduler-pipeline': {
      const r = execution.result as CampaignSchedulerResult;
      return `${plural(r.scheduled, 'pending execution')} created for ${plural(r.due, 'due campaign')}, ${r.failed} failed`;
    }
    case 'campaign-workflow-executor-pipeline': {
      const r = execution.result as WorkflowExecutorResult;
      return `${plural(r.executions, 'execution')} run, ${plural(r.delivered, 'message')} sent, ${await duplicates()}`;
    }
    default:
      return JSON.stringify(execution.result);
  }
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

demo().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
