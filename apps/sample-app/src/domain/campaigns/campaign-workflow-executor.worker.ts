import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { NotificationDatabase } from '../database/notification.database';
import { DeliveryEngine } from '../delivery/delivery-engine.service';
import { DeliveryFailedError } from '../delivery/delivery-failed.error';
import { Channel } from '../delivery/notification.senders';
import { NOTIFICATION_DOMAIN_OPTIONS, NotificationDomainOptions } from '../notification-domain.options';

/** What one `processPendingSteps` run did. */
export interface WorkflowExecutorResult {
  /** Executions this run claimed and completed. */
  executions: number;
  /** Pending executions another run claimed first. */
  claimedElsewhere: number;
  /** Messages sent (step × recipient). */
  delivered: number;
  /** Sends a provider refused (recorded as failed deliveries). */
  failed: number;
  /** Deliveries the unique (correlation, attempt, channel) guard refused. Zero while the claim works. */
  duplicates: number;
}

interface Step {
  step_order: number;
  channel: Channel;
  template: string;
}

interface Recipient {
  recipient_id: string;
  email: string;
  phone: string;
}

/**
 * Runs pending campaign executions: each is claimed with one atomic UPDATE (`… WHERE status = 'pending' AND
 * worker_token IS NULL`), then every step is sent to every recipient through the channel's provider. Two runs
 * never dispatch the same execution; the deliveries' unique key is the second guard.
 */
@Injectable()
export class CampaignWorkflowExecutorWorker {
  private readonly logger = new Logger(CampaignWorkflowExecutorWorker.name);

  constructor(
    private readonly db: NotificationDatabase,
    private readonly delivery: DeliveryEngine,
    @Inject(NOTIFICATION_DOMAIN_OPTIONS) private readonly options: NotificationDomainOptions,
  ) {}

  async processPendingSteps(signal?: AbortSignal): Promise<WorkflowExecutorResult> {
    const token = randomUUID();
    const { rows: pending } = await this.db.query<{ id: number }>(
      `SELECT id FROM campaign_executions
       WHERE status = 'pending' AND worker_token IS NULL AND scheduled_for <= now()
       ORDER BY scheduled_for, id LIMIT $1`,
      [this.options.batchSize],
    );
    const result: WorkflowExecutorResult = { executions: 0, claimedElsewhere: 0, delivered: 0, failed: 0, duplicates: 0 };
    for (const { id } of pending) {
      signal?.throwIfAborted();
      const claimed = await this.claim(id, token);
      if (!claimed) {
        result.claimedElsewhere += 1;
        continue;
      }
      try {
        const counts = await this.dispatch(claimed, signal);
        result.delivered += counts.sent;
        result.failed += counts.failed;
        result.duplicates += counts.duplicates;
        await this.complete(claimed, token, counts);
        result.executions += 1;
      } catch (error) {
        // NOTE: hand the execution back; a later run re-sends only what the delivery guard has not seen.
        await this.db
          .query(`UPDATE campaign_executions SET status = 'pending', worker_token = NULL, started_at = NULL WHERE id = $1 AND worker_token = $2`, [id, token])
          .catch(() => undefined);
        throw error;
      }
    }
    this.logger.log(
      `Executions: ${result.executions} run, ${result.delivered} messages sent, ${result.failed} failed, ` +
        `${result.claimedElsewhere} claimed by another run, ${result.duplicates} duplicates refused.`,
    );
    return result;
  }

  /** The atomic claim: at most one run ever gets the execution back. */
  private async claim(id: number, token: string): Promise<{ id: number; campaign_id: number; tenant_id: string } | undefined> {
    const { rows } = await this.db.query<{ id: number; campaign_id: number; tenant_id: string }>(
      `UPDATE campaign_executions SET worker_token = $1, status = 'running', started_at = now()
       WHERE id = $2 AND status = 'pending' AND worker_token IS NULL
       RETURNING id, campaign_id, tenant_id`,
      [token, id],
    );
    return rows[0];
  }

  private async dispatch(
    execution: { id: number; campaign_id: number; tenant_id: string },
    signal?: AbortSignal,
  ): Promise<{ sent: number; failed: number; duplicates: number }> {
    const steps = (await this.db.query<Step>('SELECT step_order, channel, template FROM campaign_steps WHERE campaign_id = $1 ORDER BY step_order', [execution.campaign_id])).rows;
    const recipients = (
      await this.db.query<Recipient>('SELECT recipient_id, email, phone FROM campaign_recipients WHERE campaign_id = $1 ORDER BY recipient_id', [execution.campaign_id])
    ).rows;
    const counts = { sent: 0, failed: 0, duplicates: 0 };
    for (const step of steps) {
      for (const recipient of recipients) {
        signal?.throwIfAborted();
        try {
          const outcome = await this.delivery.deliver({
            tenantId: execution.tenant_id,
            correlationId: `campaign-execution:${execution.id}:step:${step.step_order}:recipient:${recipient.recipient_id}`,
            attempt: 1,
            channel: step.channel,
            recipient: step.channel === 'email' ? recipient.email : recipient.phone,
            body: step.template.replace(/\{recipient\}/g, recipient.recipient_id),
          });
          if (outcome === 'duplicate') counts.duplicates += 1;
          else counts.sent += 1;
        } catch (error) {
          if (!(error instanceof DeliveryFailedError)) throw error;
          counts.failed += 1;
        }
      }
    }
    return counts;
  }

  /** Completes the execution and, when it was the campaign's last one, the campaign: one transaction. */
  private async complete(execution: { id: number; campaign_id: number }, token: string, counts: { sent: number; failed: number }): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE campaign_executions SET status = 'completed', completed_at = now(), deliveries_sent = $3, deliveries_failed = $4
         WHERE id = $1 AND worker_token = $2`,
        [execution.id, token, counts.sent, counts.failed],
      );
      await tx.query(
        `UPDATE campaigns c SET status = 'completed', completed_at = now()
         WHERE c.id = $1 AND c.status = 'active' AND c.next_run_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM campaign_executions e WHERE e.campaign_id = c.id AND e.status <> 'completed')`,
        [execution.campaign_id],
      );
    });
  }
}
