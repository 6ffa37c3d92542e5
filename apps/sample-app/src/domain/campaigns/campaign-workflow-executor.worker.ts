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
  /** Executions taken over from a claim older than the lease (its holder died or stalled). */
  recovered: number;
  /** Messages an earlier, dead holder of a recovered execution had already sent: not sent again. */
  alreadySent: number;
  /** Executions whose claim this run lost to a newer one before it finished: it stopped, its writes rejected. */
  claimsLost: number;
}

interface ClaimedExecution {
  id: number;
  campaign_id: number;
  tenant_id: string;
  fencing_token: number;
}

/** The claim was taken over by a newer one: stop working on this execution. */
class ClaimLost extends Error {}

/** Claimable: pending and unclaimed, or running under a claim older than the lease ($n: milliseconds). */
const CLAIMABLE = (param: string) =>
  `((status = 'pending' AND worker_token IS NULL) OR (status = 'running' AND claimed_at < now() - ${param}::int * interval '1 millisecond'))`;

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
 * worker_token IS NULL`, or a `running` one whose claim is older than the lease), then every step is sent to every
 * recipient through the channel's provider. The holder renews its claim while it works; each claim raises the
 * execution's fencing token, which every delivery carries. Two live runs never dispatch the same execution; a
 * dead holder's execution is finished by the next run after the lease, each message sent once.
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
    const { rows: pending } = await this.db.query<{ id: number; stranded: boolean }>(
      `SELECT id, status = 'running' AS stranded FROM campaign_executions
       WHERE ${CLAIMABLE('$2')} AND scheduled_for <= now()
       ORDER BY scheduled_for, id LIMIT $1`,
      [this.options.batchSize, this.options.claimLeaseMs],
    );
    const result: WorkflowExecutorResult = {
      executions: 0,
      claimedElsewhere: 0,
      delivered: 0,
      failed: 0,
      duplicates: 0,
      recovered: 0,
      alreadySent: 0,
      claimsLost: 0,
    };
    for (const { id, stranded } of pending) {
      signal?.throwIfAborted();
      const claimed = await this.claim(id, token);
      if (!claimed) {
        result.claimedElsewhere += 1;
        continue;
      }
      if (stranded) result.recovered += 1;
      try {
        const counts = await this.dispatch(claimed, token, signal);
        result.delivered += counts.sent;
        result.failed += counts.failed;
        result.duplicates += counts.duplicates;
        result.alreadySent += counts.alreadySent;
        await this.complete(claimed, token, counts);
        result.executions += 1;
      } catch (error) {
        if (error instanceof ClaimLost) {
          result.claimsLost += 1;
          continue;
        }
        // NOTE: hand the execution back; a later run re-sends only what the delivery guard has not seen.
        await this.db
          .query(
            `UPDATE campaign_executions SET status = 'pending', worker_token = NULL, claimed_at = NULL WHERE id = $1 AND worker_token = $2`,
            [id, token],
          )
          .catch(() => undefined);
        throw error;
      }
    }
    this.logger.log(
      `Executions: ${result.executions} run, ${result.delivered} messages sent, ${result.failed} failed, ` +
        `${result.claimedElsewhere} claimed by another run, ${result.recovered} recovered from an expired claim, ` +
        `${result.claimsLost} claims lost, ${result.duplicates} duplicates refused.`,
    );
    return result;
  }

  /** The atomic claim: at most one run holds the execution; a claim older than the lease can be taken over. */
  private async claim(id: number, token: string): Promise<ClaimedExecution | undefined> {
    const { rows } = await this.db.query<ClaimedExecution>(
      `UPDATE campaign_executions
       SET worker_token = $1, status = 'running', started_at = coalesce(started_at, now()), claimed_at = now(), fencing_token = fencing_token + 1
       WHERE id = $2 AND ${CLAIMABLE('$3')}
       RETURNING id, campaign_id, tenant_id, fencing_token`,
      [token, id, this.options.claimLeaseMs],
    );
    return rows[0];
  }

  /** Renews the claim (claimed_at = now) when a third of the lease has passed since `since`; throws ClaimLost if it was taken over. */
  private async renew(execution: ClaimedExecution, token: string, since: number): Promise<number> {
    if (Date.now() - since < this.options.claimLeaseMs / 3) return since;
    const renewed = await this.db.query(
      'UPDATE campaign_executions SET claimed_at = now() WHERE id = $1 AND worker_token = $2',
      [execution.id, token],
    );
    if (renewed.rowCount === 0) throw new ClaimLost();
    return Date.now();
  }

  private async dispatch(
    execution: ClaimedExecution,
    token: string,
    signal?: AbortSignal,
  ): Promise<{ sent: number; failed: number; duplicates: number; alreadySent: number }> {
    const steps = (
      await this.db.query<Step>(
        'SELECT step_order, channel, template FROM campaign_steps WHERE campaign_id = $1 ORDER BY step_order',
        [execution.campaign_id],
      )
    ).rows;
    const recipients = (
      await this.db.query<Recipient>(
        'SELECT recipient_id, email, phone FROM campaign_recipients WHERE campaign_id = $1 ORDER BY recipient_id',
        [execution.campaign_id],
      )
    ).rows;
    const counts = { sent: 0, failed: 0, duplicates: 0, alreadySent: 0 };
    let renewedAt = Date.now();
    for (const step of steps) {
      for (const recipient of recipients) {
        signal?.throwIfAborted();
        renewedAt = await this.renew(execution, token, renewedAt);
        try {
          const outcome = await this.delivery.deliver({
            tenantId: execution.tenant_id,
            correlationId: `campaign-execution:${execution.id}:step:${step.step_order}:recipient:${recipient.recipient_id}`,
            attempt: 1,
            channel: step.channel,
            recipient: step.channel === 'email' ? recipient.email : recipient.phone,
            body: step.template.replace(/\{recipient\}/g, recipient.recipient_id),
            fencingToken: execution.fencing_token,
          });
          if (outcome === 'superseded') throw new ClaimLost();
          if (outcome === 'duplicate') counts.duplicates += 1;
          else if (outcome === 'already-sent') counts.alreadySent += 1;
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
  private async complete(
    execution: ClaimedExecution,
    token: string,
    counts: { sent: number; failed: number; alreadySent: number },
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      const completed = await tx.query(
        `UPDATE campaign_executions SET status = 'completed', completed_at = now(), deliveries_sent = $3, deliveries_failed = $4
         WHERE id = $1 AND worker_token = $2`,
        [execution.id, token, counts.sent + counts.alreadySent, counts.failed],
      );
      if (completed.rowCount === 0) throw new ClaimLost();
      await tx.query(
        `UPDATE campaigns c SET status = 'completed', completed_at = now()
         WHERE c.id = $1 AND c.status = 'active' AND c.next_run_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM campaign_executions e WHERE e.campaign_id = c.id AND e.status <> 'completed')`,
        [execution.campaign_id],
      );
    });
  }
}
