import { TestingModule } from '@nestjs/testing';
import { BackgroundJobs, JobExecution, TenantContext } from 'nestjs-background-jobs';
import {
  NotificationDatabase,
  NotificationSeeder,
  TenantDigest,
  TenantDigestWorker,
} from '../../apps/sample-app/src/domain';
import { deletePrefix, randomPrefix, waitFor } from '../support/redis';
import { DatabaseTarget, pauseSchedules, pgliteTarget, postgresTarget, startSampleApp } from './support/sample-app';

const JOB = 'tenant-daily-digest-pipeline';

/** Each tenant's figures for today, counted here straight from the domain's tables. */
const EXPECTED = `
  SELECT t.id AS "tenantId", to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
    (SELECT count(*)::int FROM notification_deliveries d WHERE d.tenant_id = t.id AND d.status = 'sent') AS sent,
    (SELECT count(*)::int FROM notification_deliveries d WHERE d.tenant_id = t.id AND d.status = 'failed') AS failed,
    (SELECT count(*)::int FROM notification_dead_letters l WHERE l.tenant_id = t.id AND l.failed_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS "deadLetters",
    (SELECT count(*)::int FROM notification_retries r WHERE r.tenant_id = t.id AND r.status = 'pending') AS "pendingRetries"
  FROM tenants t WHERE t.active ORDER BY t.id`;

describe.each([
  { target: postgresTarget(), transport: 'BullMQ' },
  { target: pgliteTarget(), transport: 'the embedded transport' },
])(
  'the per-tenant digest on $target.name and $transport',
  ({ target, transport }: { target: DatabaseTarget; transport: string }) => {
    let app: TestingModule | undefined;
    let prefix: string | undefined;

    beforeEach(() => {
      prefix = transport === 'BullMQ' ? randomPrefix('tenant') : undefined;
    });

    afterEach(async () => {
      await app?.close();
      app = undefined;
      await target.cleanup();
      if (prefix) await deletePrefix(prefix);
    });

    afterAll(() => target.close());

    /** Runs the job as its schedule would (a fan-out) and waits for every child run. */
    async function runPerTenant(jobs: BackgroundJobs): Promise<JobExecution<TenantDigest>[]> {
      const parent = await jobs.runNow(JOB, { waitTimeoutMs: 30_000 });
      expect(parent.state).toBe('completed');
      const { children } = parent.result as { tenants: number; children: string[] };
      const finished = await Promise.all(
        children.map((id) =>
          waitFor(
            `child run ${id}`,
            async () => {
              const child = await jobs.getExecution(id);
              return child && ['completed', 'failed', 'cancelled', 'skipped'].includes(child.state)
                ? (child as JobExecution<TenantDigest>)
                : null;
            },
            20_000,
          ),
        ),
      );
      return finished as JobExecution<TenantDigest>[];
    }

    it('runs once per active tenant of the domain, with that tenant in its context and in every row it writes', async () => {
      app = await startSampleApp({ database: await target.fresh(), prefix });
      await pauseSchedules(app);
      const seed = await app.get(NotificationSeeder).seedDemo();
      const jobs = app.get(BackgroundJobs);
      // Some traffic first, different per tenant (one tenant has a bouncing address), so each digest has its own figures.
      expect((await jobs.runNow('notification-retry-processor-pipeline')).state).toBe('completed');
      expect((await jobs.runNow('notification-retry-expire-pipeline')).state).toBe('completed');

      const tenantContext = app.get(TenantContext);
      const worker = app.get(TenantDigestWorker);
      const digestDay = worker.digestDay.bind(worker);
      const seenInContext: Array<{ argument: string; context: string | null }> = [];
      jest.spyOn(worker, 'digestDay').mockImplementation((tenantId, day, signal) => {
        seenInContext.push({ argument: tenantId, context: tenantContext.tenantId });
        return digestDay(tenantId, day, signal);
      });

      const children = await runPerTenant(jobs);

      expect(children.map((child) => [child.tenantId, child.state]).sort()).toEqual(
        seed.tenants.map((t) => [t, 'completed']).sort(),
      );
      expect(seenInContext.sort((a, b) => a.argument.localeCompare(b.argument))).toEqual(
        seed.tenants.sort().map((t) => ({ argument: t, context: t })),
      );
      for (const child of children) expect(child.result?.tenantId).toBe(child.tenantId);
      const db = app.get(NotificationDatabase);
      const expected = (await db.query<TenantDigest>(EXPECTED)).rows;
      expect(
        new Set(expected.map((row) => JSON.stringify([row.sent, row.failed, row.deadLetters, row.pendingRetries])))
          .size,
      ).toBeGreaterThan(1);
      const written = await db.query<TenantDigest>(
        `SELECT tenant_id AS "tenantId", to_char(day, 'YYYY-MM-DD') AS day, sent, failed, dead_letters AS "deadLetters", pending_retries AS "pendingRetries"
       FROM tenant_daily_digests ORDER BY tenant_id`,
      );
      expect(written.rows).toEqual(expected);
      expect(written.rows.map((row) => row.tenantId)).not.toContain(seed.inactiveTenants[0]);

      // The directory is the domain's: a tenant deactivated there gets no run on the next tick.
      await db.query('UPDATE tenants SET active = false WHERE id = $1', [seed.tenants[0]]);
      const next = await runPerTenant(jobs);
      expect(next.map((child) => child.tenantId).sort()).toEqual(seed.tenants.slice(1).sort());
    });
  },
);
