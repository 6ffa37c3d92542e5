import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BackgroundJobs } from 'nestjs-background-jobs';
import { AppModule } from './app.module';
import {
  CampaignCleanupResult,
  CampaignSchedulerResult,
  CleanupResult,
  DatabaseOptions,
  ExpireStaleRetriesResult,
  NotificationReport,
  NotificationSeeder,
  ProcessDueRetriesResult,
  TenantDigest,
  WorkflowExecutorResult,
} from './domain';
import { PgliteDatabase } from './domain/database/pglite.database';
import { LegacyCronRegistrar } from './legacy/legacy-cron.registrar';
import { LegacyNotificationJobs } from './legacy/legacy-notification.jobs';
import {
  activeSchedules,
  JobsMode,
  LEGACY_SCHEDULES,
  LegacyJobId,
  MIGRATED_JOBS,
  NOTIFICATIONS_QUEUE,
  PipelineJobId,
} from './notification.schedules';
import { describeBackends, readSampleConfig, SampleAppConfig } from './sample-app.config';

/** The migration in the design notes' order; the rollback is of one job, the campaign scheduler. */
const PHASES: Array<{ title: string; mode: JobsMode; disabled: PipelineJobId[]; note: string }> = [
  {
    title: '1. legacy',
    mode: 'legacy',
    disabled: [],
    note: 'before the migration: the hand-rolled registrations only',
  },
  {
    title: '2. additive',
    mode: 'additive',
    disabled: [],
    note: 'the pipeline jobs, and beside them the legacy schedulers of the jobs safe to run twice',
  },
  {
    title: '3. exclusive',
    mode: 'pipeline',
    disabled: [],
    note: 'the cutover: pipeline jobs only, legacy schedulers removed',
  },
  {
    title: '4. rollback of one job',
    mode: 'pipeline',
    disabled: ['campaign-scheduler-pipeline'],
    note: 'enabled: false on it, its legacy scheduler back, the others untouched',
  },
  { title: '5. forward again', mode: 'pipeline', disabled: [], note: 'the rolled-back job re-enabled' },
];

interface Row {
  job: string;
  registration: 'legacy' | 'pipeline';
  state: string;
  effect: string;
}

/**
 * `npm run demo`: replays the migration on the sample app's defaults (embedded transport without REDIS_URL, PGlite
 * without DATABASE_URL), one boot per phase over one database: legacy → additive → exclusive → rollback of one job
 * → forward again. Each phase adds some traffic, then runs one tick of every registration the phase has (both, side
 * by side, where it has both) and prints what each did. Exits 0 only when every tick completed and no message was
 * sent twice.
 */
async function demo(): Promise<number> {
  const base = readSampleConfig();
  if (base.mode !== 'pipeline' || base.disabled.length) {
    throw new Error('npm run demo replays every mode itself. Fix: unset JOBS_MODE and JOBS_DISABLED.');
  }
  // NOTE: one database across the phases' boots: an in-memory PGlite would otherwise die with each app.
  const shared = base.database.url ? undefined : await PgliteDatabase.open({ dataDir: base.database.pgliteDataDir });
  const database: DatabaseOptions = shared ? { database: shared } : base.database;
  let ok = true;
  try {
    for (const [index, phase] of PHASES.entries()) {
      const config: SampleAppConfig = { ...base, mode: phase.mode, disabled: phase.disabled, database };
      const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
        logger: ['error', 'warn'],
        abortOnError: false,
      });
      try {
        ok = (await runPhase(app, config, phase, index === 0)) && ok;
      } finally {
        await app.close();
      }
    }
  } finally {
    await shared?.close();
  }
  console.log(
    ok
      ? '\nEvery tick of every phase completed; 0 duplicate sends.'
      : '\nSomething did not complete, or was sent twice: see the state column.',
  );
  return ok ? 0 : 1;
}

async function runPhase(
  app: INestApplicationContext,
  config: SampleAppConfig,
  phase: (typeof PHASES)[number],
  first: boolean,
): Promise<boolean> {
  const jobs = app.get(BackgroundJobs);
  const active = activeSchedules(config.mode, config.disabled);
  // NOTE: embedded, pauses and crons are in-memory and die with this boot: stopping them keeps a cron tick from adding
  // runs to what the phase prints. On BullMQ a pause would be persisted for every instance, so there they run on.
  if (!config.redis) {
    for (const id of active.pipeline) await jobs.pause(id);
    if (active.legacy.length) app.get(LegacyCronRegistrar, { strict: false }).stopAll();
  }
  const seeder = app.get(NotificationSeeder);
  const tenants = ['acme', 'globex', 'initech'];
  if (first) {
    const seed = await seeder.seedDemo(tenants);
    console.log(
      `Seeded ${seed.tenants.length} tenants (${seed.tenants.join(', ')}; ${seed.inactiveTenants.join(', ')} inactive): ${seed.dueRetries} due retries, ` +
        `${seed.staleRetries} expired ones, ${seed.finishedRetries} finished ones, ${seed.oldDeadLetters} old dead letters, ` +
        `${seed.dueCampaigns} due campaigns, ${seed.completedCampaigns} old completed campaigns (${describeBackends(config)}).`,
    );
  } else {
    const traffic = await seeder.seedTraffic(tenants, `phase${phase.title[0]}`);
    console.log(`New traffic: ${traffic.dueRetries} due retries, ${traffic.dueCampaigns} due campaigns.`);
  }
  const recurring = (await jobs.listRecurring())
    .filter((info) => info.queue === NOTIFICATIONS_QUEUE)
    .map((info) => info.jobId);
  console.log(
    `\n== ${phase.title} (JOBS_MODE=${config.mode}${config.disabled.length ? ` JOBS_DISABLED=${config.disabled.join(',')}` : ''}): ${phase.note}`,
  );
  console.log(`   pipeline jobs scheduled: ${recurring.length}${recurring.length ? ` (${recurring.join(', ')})` : ''}`);
  console.log(
    `   legacy schedulers: ${active.legacy.length}${active.legacy.length ? ` (${active.legacy.map((s) => s.id).join(', ')})` : ''}`,
  );

  const legacyJobs = active.legacy.length ? app.get(LegacyNotificationJobs, { strict: false }) : undefined;
  const rows: Row[] = [];
  for (const job of MIGRATED_JOBS) {
    const ticks: Array<Promise<Row[]>> = [];
    for (const legacyId of job.legacy) {
      if (legacyJobs && active.legacy.some((s) => s.id === legacyId)) ticks.push(legacyTick(legacyJobs, legacyId));
    }
    if (active.pipeline.includes(job.id)) ticks.push(pipelineTick(jobs, job.id));
    // NOTE: side by side, as two schedulers firing on the same tick would: the domain keeps that harmless.
    rows.push(...(await Promise.all(ticks)).flat());
  }
  const duplicates = (await app.get(NotificationReport).deliveryCounts()).duplicateSends;
  console.log(
    table(
      ['job', 'registration', 'state', 'effect'],
      rows.map((row) => [row.job, row.registration, row.state, row.effect]),
    ),
  );
  console.log(`   duplicate sends so far: ${duplicates}`);
  return rows.every((row) => row.state === 'completed') && duplicates === 0;
}

async function legacyTick(legacy: LegacyNotificationJobs, id: LegacyJobId): Promise<Row[]> {
  try {
    const result = await legacy.run(id);
    return [
      {
        job: id,
        registration: 'legacy',
        state: 'completed',
        effect: describe(LEGACY_SCHEDULES.find((s) => s.id === id)?.replacedBy as PipelineJobId, result, id),
      },
    ];
  } catch (error) {
    return [{ job: id, registration: 'legacy', state: 'failed', effect: (error as Error).message }];
  }
}

async function pipelineTick(jobs: BackgroundJobs, id: PipelineJobId): Promise<Row[]> {
  try {
    if (id === 'tenant-daily-digest-pipeline') return await digestBatch(jobs, id);
    const execution = await jobs.runNow(id, { waitTimeoutMs: 60_000 });
    if (execution.state !== 'completed')
      return [
        {
          job: id,
          registration: 'pipeline',
          state: execution.state,
          effect: execution.failure?.message ?? execution.skipReason ?? '',
        },
      ];
    return [{ job: id, registration: 'pipeline', state: 'completed', effect: describe(id, execution.result) }];
  } catch (error) {
    return [{ job: id, registration: 'pipeline', state: 'error', effect: (error as Error).message }];
  }
}

/**
 * The per-tenant digest run as a batch: one child run per tenant of the TENANT_DIRECTORY (`batch()` lists them), each
 * awaited here, then the batch's per-tenant counts say which tenants' digests failed.
 */
async function digestBatch(jobs: BackgroundJobs, id: PipelineJobId): Promise<Row[]> {
  const { batchId, executionIds } = await jobs.batch([{ job: id }], { timeoutMs: 60_000 });
  const digests: TenantDigest[] = [];
  for (const child of executionIds) {
    const done = await waitForFinal(jobs, child);
    if (done.state === 'completed') digests.push(done.result as TenantDigest);
  }
  const batch = await jobs.getBatch(batchId);
  const tenants = Object.entries(batch?.tenants ?? {});
  const failed = tenants.filter(([, counts]) => counts.completed < counts.total).map(([tenant]) => tenant);
  return [
    {
      job: id,
      registration: 'pipeline',
      state: batch?.state === 'succeeded' ? 'completed' : (batch?.state ?? 'unknown'),
      effect:
        `${executionIds.length} runs, one per tenant: ${describeDigests(digests)}` +
        (failed.length ? `; not done for ${failed.sort().join(', ')}` : ''),
    },
  ];
}

async function waitForFinal(jobs: BackgroundJobs, executionId: string): Promise<{ state: string; result?: unknown }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const execution = await jobs.getExecution(executionId);
    if (execution && ['completed', 'failed', 'cancelled', 'skipped'].includes(execution.state)) return execution;
    if (Date.now() > deadline) return { state: execution?.state ?? 'unknown' };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One line on what a tick did, from the domain worker's result (the same for both registrations). */
function describe(id: PipelineJobId, result: unknown, legacyId?: LegacyJobId): string {
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  switch (id) {
    case 'notification-deadletter-cleanup-pipeline': {
      if (legacyId === 'notification-deadletter-cleanup')
        return `${plural((result as CleanupResult).deleted, 'dead letter')} deleted`;
      if (legacyId === 'notification-retry-cleanup')
        return `${plural((result as CleanupResult).deleted, 'finished retry', 'finished retries')} deleted`;
      const r = result as { deadLetters: CleanupResult; staleRetries: CleanupResult };
      return `${plural(r.deadLetters.deleted, 'dead letter')} and ${plural(r.staleRetries.deleted, 'finished retry', 'finished retries')} deleted`;
    }
    case 'notification-retry-expire-pipeline':
      return `${plural((result as ExpireStaleRetriesResult).expired, 'stale retry', 'stale retries')} expired into dead letters`;
    case 'notification-retry-processor-pipeline': {
      const r = result as ProcessDueRetriesResult;
      return `${plural(r.dispatched, 'retry', 'retries')} dispatched, ${r.failed} failed (rescheduled)${r.claimedElsewhere ? `, ${r.claimedElsewhere} claimed by another run` : ''}`;
    }
    case 'campaign-cleanup-pipeline':
      return `${plural((result as CampaignCleanupResult).softDeleted, 'completed campaign')} soft-deleted`;
    case 'campaign-scheduler-pipeline': {
      const r = result as CampaignSchedulerResult;
      return `${plural(r.scheduled, 'pending execution')} created for ${plural(r.due, 'due campaign')}${r.scheduledElsewhere ? `, ${r.scheduledElsewhere} scheduled by the other run` : ''}`;
    }
    case 'campaign-workflow-executor-pipeline': {
      const r = result as WorkflowExecutorResult;
      return `${plural(r.executions, 'execution')} run, ${plural(r.delivered, 'message')} sent`;
    }
    case 'tenant-daily-digest-pipeline':
      return `${plural((result as TenantDigest[]).length, 'tenant')} in one run: ${describeDigests(result as TenantDigest[])}`;
  }
}

function describeDigests(digests: TenantDigest[]): string {
  return [...digests]
    .sort((a, b) => a.tenantId.localeCompare(b.tenantId))
    .map((d) => `${d.tenantId} ${d.sent} sent`)
    .join(', ');
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
