import { Injectable } from '@nestjs/common';
import { NotificationDatabase } from './database/notification.database';
import { SqlExecutor } from './database/sql-database';
import { Channel } from './delivery/notification.senders';
import { NotificationTenants } from './tenants/notification-tenants.service';

/** What `seedDemo` put in the database. */
export interface DemoSeed {
  /** Active tenants, each with data. */
  tenants: string[];
  /** A tenant marked inactive (no data): per-tenant jobs do not run for it. */
  inactiveTenants: string[];
  dueRetries: number;
  staleRetries: number;
  oldDeadLetters: number;
  finishedRetries: number;
  completedCampaigns: number;
  dueCampaigns: number;
}

const CHANNELS: Channel[] = ['email', 'sms', 'whatsapp'];

const address = (channel: Channel, name: string) =>
  channel === 'email' ? `${name}@example.test` : `+1555${name.replace(/\D/g, '').padStart(7, '0')}`;

/** Sample data for the demo and the tests: several tenants' retries, dead letters and campaigns. */
@Injectable()
export class NotificationSeeder {
  constructor(private readonly db: NotificationDatabase) {}

  /**
   * Per tenant: 4 due retries (one tenant also has one that bounces), 1 not yet due, 2 pending past expiry,
   * 2 finished 10 days ago, 3 dead letters 45 days old and 1 recent, 1 campaign completed 40 days ago and 1 due
   * one-shot campaign (email + SMS to 3 recipients); the first tenant also has a due weekly WhatsApp campaign.
   */
  async seedDemo(tenants: string[] = ['acme', 'globex', 'initech']): Promise<DemoSeed> {
    const seed: DemoSeed = {
      tenants,
      inactiveTenants: ['hooli'],
      dueRetries: 0,
      staleRetries: 0,
      oldDeadLetters: 0,
      finishedRetries: 0,
      completedCampaigns: 0,
      dueCampaigns: 0,
    };
    await this.db.transaction(async (tx) => {
      await NotificationTenants.ensure(tx, tenants);
      await NotificationTenants.ensure(tx, seed.inactiveTenants, false);
      for (const [t, tenant] of tenants.entries()) {
        for (let i = 0; i < 4; i += 1) {
          await insertRetry(tx, {
            tenant,
            key: `${tenant}-due-${i}`,
            channel: CHANNELS[i % 3],
            recipient: `${tenant}${t}${i}`,
          });
          seed.dueRetries += 1;
        }
        if (t === 1) {
          await insertRetry(tx, { tenant, key: `${tenant}-bounce`, channel: 'email', recipient: `bounce-${tenant}` });
          seed.dueRetries += 1;
        }
        await insertRetry(tx, {
          tenant,
          key: `${tenant}-later`,
          channel: 'sms',
          recipient: `${tenant}${t}9`,
          dueInMinutes: 10,
        });
        for (let i = 0; i < 2; i += 1) {
          await insertRetry(tx, {
            tenant,
            key: `${tenant}-stale-${i}`,
            channel: 'email',
            recipient: `${tenant}-stale${i}`,
            dueInMinutes: -300,
            expiresInMinutes: -60,
          });
          await insertRetry(tx, {
            tenant,
            key: `${tenant}-done-${i}`,
            channel: 'sms',
            recipient: `${tenant}${t}8${i}`,
            status: 'dispatched',
            updatedDaysAgo: 10,
          });
          seed.staleRetries += 1;
          seed.finishedRetries += 1;
        }
        for (let i = 0; i < 4; i += 1) {
          await tx.query(
            `INSERT INTO notification_dead_letters (tenant_id, correlation_id, channel, recipient, body, attempts, reason, failed_at)
             VALUES ($1, $2, 'email', $3, 'Your invoice', 5, 'mailbox full', now() - make_interval(days => $4))`,
            [tenant, `${tenant}-dead-${i}`, `${tenant}-dead${i}@example.test`, i < 3 ? 45 : 1],
          );
          if (i < 3) seed.oldDeadLetters += 1;
        }
        await this.insertCampaign(tx, { tenant, name: `${tenant} spring sale (done)`, completedDaysAgo: 40 });
        await this.insertCampaign(tx, {
          tenant,
          name: `${tenant} launch`,
          dueMinutesAgo: 1,
          steps: ['email', 'sms'],
          recipients: 3,
        });
        seed.completedCampaigns += 1;
        seed.dueCampaigns += 1;
        if (t === 0) {
          await this.insertCampaign(tx, {
            tenant,
            name: `${tenant} weekly digest`,
            dueMinutesAgo: 2,
            repeatEveryMinutes: 7 * 24 * 60,
            steps: ['whatsapp'],
            recipients: 3,
          });
          seed.dueCampaigns += 1;
        }
      }
    });
    return seed;
  }

  /**
   * New traffic for the active tenants: per tenant 2 due retries and 1 due one-shot campaign (email to 2
   * recipients). Correlation ids and campaign names carry `label`, so a second call adds more.
   */
  async seedTraffic(tenants: string[], label: string): Promise<{ dueRetries: number; dueCampaigns: number }> {
    await this.db.transaction(async (tx) => {
      await NotificationTenants.ensure(tx, tenants);
      for (const [t, tenant] of tenants.entries()) {
        for (let i = 0; i < 2; i += 1) {
          await insertRetry(tx, {
            tenant,
            key: `${tenant}-${label}-${i}`,
            channel: CHANNELS[(t + i) % 3],
            recipient: `${tenant}${label}${i}`,
          });
        }
        await this.insertCampaign(tx, {
          tenant,
          name: `${tenant} ${label}`,
          dueMinutesAgo: 1,
          steps: ['email'],
          recipients: 2,
        });
      }
    });
    return { dueRetries: tenants.length * 2, dueCampaigns: tenants.length };
  }

  /** `count` retry entries due now, spread over `tenants`; their correlation ids start with `prefix`. */
  async seedDueRetries(count: number, tenants: string[] = ['tenant-a', 'tenant-b'], prefix = 'due'): Promise<void> {
    await this.db.transaction(async (tx) => {
      await NotificationTenants.ensure(tx, tenants);
      for (let i = 0; i < count; i += 1) {
        const tenant = tenants[i % tenants.length];
        await insertRetry(tx, { tenant, key: `${prefix}-${i}`, channel: CHANNELS[i % 3], recipient: `${tenant}-${i}` });
      }
    });
  }

  /** Pending executions ready to run: `campaigns` one-shot campaigns of `steps` × `recipients`, each with its execution. */
  async seedPendingExecutions(campaigns: number, steps: Channel[] = ['email', 'sms'], recipients = 3): Promise<void> {
    await this.db.transaction(async (tx) => {
      await NotificationTenants.ensure(tx, ['tenant-0', 'tenant-1']);
      for (let i = 0; i < campaigns; i += 1) {
        const id = await this.insertCampaign(tx, {
          tenant: `tenant-${i % 2}`,
          name: `campaign ${i}`,
          steps,
          recipients,
        });
        await tx.query(
          `INSERT INTO campaign_executions (campaign_id, tenant_id, scheduled_for) SELECT id, tenant_id, now() - interval '1 minute' FROM campaigns WHERE id = $1`,
          [id],
        );
      }
    });
  }

  async insertCampaign(
    tx: SqlExecutor,
    c: {
      tenant: string;
      name: string;
      dueMinutesAgo?: number;
      repeatEveryMinutes?: number;
      completedDaysAgo?: number;
      steps?: Channel[];
      recipients?: number;
    },
  ): Promise<number> {
    const completed = c.completedDaysAgo !== undefined;
    const { rows } = await tx.query<{ id: number }>(
      `INSERT INTO campaigns (tenant_id, name, status, next_run_at, repeat_every_minutes, completed_at)
       VALUES ($1, $2, $3,
               CASE WHEN $4::int IS NULL THEN NULL ELSE now() - make_interval(mins => $4::int) END,
               $5::int,
               CASE WHEN $6::int IS NULL THEN NULL ELSE now() - make_interval(days => $6::int) END)
       RETURNING id`,
      [
        c.tenant,
        c.name,
        completed ? 'completed' : 'active',
        c.dueMinutesAgo ?? null,
        c.repeatEveryMinutes ?? null,
        c.completedDaysAgo ?? null,
      ],
    );
    const id = rows[0].id;
    for (const [order, channel] of (c.steps ?? ['email']).entries()) {
      await tx.query(
        'INSERT INTO campaign_steps (campaign_id, step_order, channel, template) VALUES ($1, $2, $3, $4)',
        [id, order + 1, channel, `Hello {recipient}, step ${order + 1} of ${c.name}`],
      );
    }
    for (let r = 0; r < (c.recipients ?? 1); r += 1) {
      const name = `${c.tenant}-c${id}-r${r}`;
      await tx.query(
        'INSERT INTO campaign_recipients (campaign_id, recipient_id, email, phone) VALUES ($1, $2, $3, $4)',
        [id, name, address('email', name), address('sms', `${id}${r}`)],
      );
    }
    return id;
  }
}

async function insertRetry(
  tx: SqlExecutor,
  r: {
    tenant: string;
    key: string;
    channel: Channel;
    recipient: string;
    dueInMinutes?: number;
    expiresInMinutes?: number;
    status?: string;
    updatedDaysAgo?: number;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO notification_retries (tenant_id, correlation_id, channel, recipient, body, status, next_attempt_at, expires_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(mins => $7), now() + make_interval(mins => $8), now() - make_interval(days => $9))`,
    [
      r.tenant,
      `retry:${r.key}`,
      r.channel,
      address(r.channel, r.recipient),
      `Notification ${r.key}`,
      r.status ?? 'pending',
      r.dueInMinutes ?? -1,
      r.expiresInMinutes ?? 24 * 60,
      r.updatedDaysAgo ?? 0,
    ],
  );
}
