import { join } from 'node:path';
import { TestingModule } from '@nestjs/testing';
import { BackgroundJobs } from 'nestjs-background-jobs';
import {
  CampaignWorkflowExecutorWorker,
  DeliveryEngine,
  NotificationDatabase,
  NotificationReport,
  NotificationRetryWorker,
  NotificationSeeder,
  ProcessDueRetriesResult,
  WorkflowExecutorResult,
} from '../../apps/sample-app/src/domain';
import { AppProcess, removeAppBuild } from '../support/app-process';
import { waitFor } from '../support/redis';
import { DatabaseTarget, pauseSchedules, pgliteTarget, postgresTarget, startSampleApp } from './support/sample-app';

const CHILD = join(__dirname, 'support', 'stalling-sender.child.ts');
const DUE_RETRIES = 10;
const RETRY_RUNS = 3;
const MESSAGES_PER_EXECUTION = 6; // email + SMS to 3 recipients

// NOTE: PostgreSQL only: the dying process and the one recovering after it must share the database.
describe('claims that outlive their holder: a process SIGKILLed while holding claims', () => {
  const postgres = postgresTarget();
  let app: TestingModule | undefined;
  afterAll(() => removeAppBuild());

  afterEach(async () => {
    await AppProcess.killAll();
    await app?.close();
    app = undefined;
    await postgres.cleanup();
  });

  it('leaves retry entries and an execution that another worker sends after the lease, each message exactly once', async () => {
    const LEASE_MS = 6_000;
    const database = await postgres.fresh();
    // The worker that takes over, booted first so that its first run follows the kill at once.
    app = await startSampleApp({ database, claimLeaseMs: LEASE_MS });
    await pauseSchedules(app);
    const seeder = app.get(NotificationSeeder);
    await seeder.seedDueRetries(DUE_RETRIES);
    await seeder.seedPendingExecutions(1, ['email', 'sms'], 3);
    const db = app.get(NotificationDatabase);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url,
      DATABASE_SCHEMA: database.schema,
      CLAIM_LEASE_MS: String(LEASE_MS),
      CAMPAIGN_SENDS_BEFORE_STALL: '2',
      RETRY_RUNS: String(RETRY_RUNS),
    };
    delete env.REDIS_URL;
    const dying = AppProcess.spawn(CHILD, { env, name: 'stalling sender' });
    // Every run of the dying process is inside a send, holding its claim.
    await waitFor(
      `the child's ${RETRY_RUNS + 1} runs to hang mid-send`,
      () => {
        if (!dying.running) throw new Error(`child exited: ${dying.output}`);
        return (dying.output.match(/^stalled /gm) ?? []).length === RETRY_RUNS + 1;
      },
      60_000,
      50,
    );
    dying.kill('SIGKILL');
    await dying.exited;

    const stranded = await db.query<{ id: number; claimed_at: Date }>(
      `SELECT id, claimed_at FROM notification_retries WHERE status = 'pending' AND worker_token IS NOT NULL`,
    );
    const strandedExecution = await db.query<{ id: number; claimed_at: Date }>(
      `SELECT id, claimed_at FROM campaign_executions WHERE status = 'running'`,
    );
    expect(stranded.rows).toHaveLength(RETRY_RUNS);
    expect(strandedExecution.rows).toHaveLength(1);
    const sentByTheDead = (await app.get(NotificationReport).deliveryCounts()).sent;
    expect(sentByTheDead).toBe(2); // two of the execution's messages, before it froze on the third

    // Within the lease the claims hold: the other due entries are sent, the stranded ones are left alone.
    const jobs = app.get(BackgroundJobs);
    const early = (await jobs.runNow('notification-retry-processor-pipeline')).result as ProcessDueRetriesResult;
    expect(early.recovered).toBe(0);
    const stillHeld = await db.query<{ id: number }>(
      `SELECT id FROM notification_retries WHERE status = 'pending' AND worker_token IS NOT NULL AND fencing_token = 1`,
    );
    expect(stillHeld.rows.map((row) => row.id).sort()).toEqual(stranded.rows.map((row) => row.id).sort());

    // After the lease the next runs take the claims over, with a new token and a higher fencing token.
    let recoveredEntries = 0;
    let recoveredExecutions = 0;
    let alreadySent = 0;
    await waitFor(
      'the stranded claims to be recovered',
      async () => {
        const retries = (await jobs.runNow('notification-retry-processor-pipeline')).result as ProcessDueRetriesResult;
        const executor = (await jobs.runNow('campaign-workflow-executor-pipeline')).result as WorkflowExecutorResult;
        recoveredEntries += retries.recovered;
        recoveredExecutions += executor.recovered;
        alreadySent += executor.alreadySent;
        return recoveredEntries === RETRY_RUNS && recoveredExecutions === 1;
      },
      LEASE_MS + 20_000,
      200,
    );

    const retries = await db.query<{ id: number; status: string; fencing_token: number; claimed_at: Date }>(
      'SELECT id, status, fencing_token, claimed_at FROM notification_retries ORDER BY id',
    );
    expect(retries.rows.map((row) => row.status)).toEqual(Array(DUE_RETRIES).fill('dispatched'));
    for (const old of [...stranded.rows, ...strandedExecution.rows.map((row) => ({ ...row, execution: true }))]) {
      const table = 'execution' in old ? 'campaign_executions' : 'notification_retries';
      const now = (
        await db.query<{ fencing_token: number; claimed_at: Date }>(
          `SELECT fencing_token, claimed_at FROM ${table} WHERE id = $1`,
          [old.id],
        )
      ).rows[0];
      expect({ table, fencingToken: now.fencing_token }).toEqual({ table, fencingToken: 2 });
      // Not a moment before the lease ran out.
      expect(now.claimed_at.getTime() - old.claimed_at.getTime()).toBeGreaterThanOrEqual(LEASE_MS);
    }
    const execution = await db.query<{ status: string; deliveries_sent: number }>(
      'SELECT status, deliveries_sent FROM campaign_executions',
    );
    expect(execution.rows).toEqual([{ status: 'completed', deliveries_sent: MESSAGES_PER_EXECUTION }]);
    // What a recipient would notice: every message once, none twice, none lost.
    expect(await app.get(NotificationReport).deliveryCounts()).toEqual({
      sent: DUE_RETRIES + MESSAGES_PER_EXECUTION,
      duplicateSends: 0,
      deliveries: DUE_RETRIES + MESSAGES_PER_EXECUTION,
    });
    expect(alreadySent).toBe(2); // the recovering run found them sent and did not send them again
    const sentFromTheExecution = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sent_messages WHERE correlation_id LIKE 'campaign-execution:%'`,
    );
    expect(sentFromTheExecution.rows[0].n).toBe(MESSAGES_PER_EXECUTION);
  }, 120_000);
});

describe.each([postgresTarget(), pgliteTarget()])(
  'a first holder that wakes up after its claim was taken over, on $name',
  (target: DatabaseTarget) => {
    let app: TestingModule | undefined;

    afterEach(async () => {
      await app?.close();
      app = undefined;
      await target.cleanup();
    });

    afterAll(() => target.close());

    it('has its delivery and its write rejected: the next holder sent the message, once', async () => {
      const LEASE_MS = 500;
      app = await startSampleApp({ database: await target.fresh(), claimLeaseMs: LEASE_MS });
      await pauseSchedules(app);
      await app.get(NotificationSeeder).seedDueRetries(1);
      const db = app.get(NotificationDatabase);
      const worker = app.get(NotificationRetryWorker);
      const engine = app.get(DeliveryEngine);
      const deliver = engine.deliver.bind(engine);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let held = false;
      // NOTE: the first holder stalls between its claim and its delivery (a long GC pause, a frozen VM).
      jest.spyOn(engine, 'deliver').mockImplementation(async (request) => {
        if (!held) {
          held = true;
          await gate;
        }
        return deliver(request);
      });

      const first = worker.processDueRetries();
      await waitFor('the first holder to claim the entry and stall', () => held, 10_000, 5);
      const firstClaim = (await db.query<{ claimed_at: Date }>('SELECT claimed_at FROM notification_retries')).rows[0]
        .claimed_at;

      const second = await waitFor(
        'a second run to take the claim over after the lease',
        async () => {
          const result = await worker.processDueRetries();
          return result.recovered === 1 ? result : undefined;
        },
        LEASE_MS + 10_000,
        50,
      );
      expect(second).toMatchObject({ dispatched: 1, recovered: 1, claimsLost: 0, duplicates: 0 });
      release();
      expect(await first).toMatchObject({ dispatched: 0, claimsLost: 1, duplicates: 1 });

      const entry = (
        await db.query<{ status: string; fencing_token: number; claimed_at: Date }>(
          'SELECT status, fencing_token, claimed_at FROM notification_retries',
        )
      ).rows[0];
      expect(entry).toMatchObject({ status: 'dispatched', fencing_token: 2 });
      expect(entry.claimed_at.getTime() - firstClaim.getTime()).toBeGreaterThanOrEqual(LEASE_MS);
      const delivery = await db.query('SELECT status, fencing_token FROM notification_deliveries');
      expect(delivery.rows).toEqual([{ status: 'sent', fencing_token: 2 }]);
      expect(await app.get(NotificationReport).deliveryCounts()).toEqual({ sent: 1, duplicateSends: 0, deliveries: 1 });
    });

    it('is never taken over while it works: the executor renews its claim every third of the lease', async () => {
      const LEASE_MS = 1_500;
      const SEND_MS = 400; // 6 sends take 2.4 s: longer than the lease
      app = await startSampleApp({ database: await target.fresh(), claimLeaseMs: LEASE_MS });
      await pauseSchedules(app);
      await app.get(NotificationSeeder).seedPendingExecutions(1, ['email', 'sms'], 3);
      const engine = app.get(DeliveryEngine);
      const deliver = engine.deliver.bind(engine);
      // NOTE: a slow provider: each send takes SEND_MS.
      jest.spyOn(engine, 'deliver').mockImplementation(async (request) => {
        await new Promise((resolve) => setTimeout(resolve, SEND_MS));
        return deliver(request);
      });
      const worker = app.get(CampaignWorkflowExecutorWorker);
      let finished = false;
      const first = worker.processPendingSteps().finally(() => (finished = true));
      // Past the lease since the claim, while the first run still sends, other runs find nothing to take over.
      const claimedAt = Date.now();
      const others: WorkflowExecutorResult[] = [];
      while (!finished) {
        if (Date.now() - claimedAt > LEASE_MS) others.push(await worker.processPendingSteps());
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(await first).toMatchObject({ executions: 1, delivered: MESSAGES_PER_EXECUTION, claimsLost: 0 });
      expect(others.length).toBeGreaterThan(0);
      expect(others.filter((r) => r.recovered > 0 || r.executions > 0)).toEqual([]);
      expect(await app.get(NotificationReport).deliveryCounts()).toEqual({
        sent: MESSAGES_PER_EXECUTION,
        duplicateSends: 0,
        deliveries: MESSAGES_PER_EXECUTION,
      });
    });
  },
);
