import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { NotificationDatabase } from '../database/notification.database';
import { DeliveryEngine } from '../delivery/delivery-engine.service';
import { DeliveryFailedError } from '../delivery/delivery-failed.error';
import { Channel } from '../delivery/notification.senders';
import { NOTIFICATION_DOMAIN_OPTIONS, NotificationDomainOptions } from '../notification-domain.options';

/** What one `processDueRetries` run did. */
export interface ProcessDueRetriesResult {
  /** Entries that were due when the run looked. */
  due: number;
  /** Entries this run claimed and delivered. */
  dispatched: number;
  /** Due entries another run claimed first (skipped here: the claim did its job). */
  claimedElsewhere: number;
  /** Sends that failed: rescheduled with backoff, or dead-lettered after their last attempt. */
  failed: number;
  deadLettered: number;
  /** Deliveries the unique (correlation, attempt, channel) guard refused. Zero while the claim works. */
  duplicates: number;
}

/** What one `expireStaleRetries` run did. */
export interface ExpireStaleRetriesResult {
  /** Pending entries past `expires_at`, marked expired and moved to the dead letters. */
  expired: number;
}

interface ClaimedEntry {
  id: number;
  tenant_id: string;
  correlation_id: string;
  channel: Channel;
  recipient: string;
  body: string;
  attempt: number;
  max_attempts: number;
}

/** The notification retry worker: one interface, two jobs (expiry hourly, processing every two minutes). */
@Injectable()
export class NotificationRetryWorker {
  private readonly logger = new Logger(NotificationRetryWorker.name);

  constructor(
    private readonly db: NotificationDatabase,
    private readonly delivery: DeliveryEngine,
    @Inject(NOTIFICATION_DOMAIN_OPTIONS) private readonly options: NotificationDomainOptions,
  ) {}

  /** Marks pending entries past their expiry as expired and dead-letters them, in one statement. Idempotent. */
  async expireStaleRetries(signal?: AbortSignal): Promise<ExpireStaleRetriesResult> {
    signal?.throwIfAborted();
    const { rowCount } = await this.db.query(
      `WITH expired AS (
         UPDATE notification_retries SET status = 'expired', updated_at = now()
         WHERE status = 'pending' AND worker_token IS NULL AND expires_at <= now()
         RETURNING tenant_id, correlation_id, channel, recipient, body, attempt, last_error
       )
       INSERT INTO notification_dead_letters (tenant_id, correlation_id, channel, recipient, body, attempts, reason)
       SELECT tenant_id, correlation_id, channel, recipient, body, attempt,
              'expired before delivery' || coalesce(': ' || last_error, '')
       FROM expired`,
    );
    if (rowCount > 0) this.logger.log(`Expired ${rowCount} retry entr${rowCount === 1 ? 'y' : 'ies'} into dead letters.`);
    return { expired: rowCount };
  }

  /**
   * Delivers every due entry exactly once across any number of concurrent runs: each entry is claimed with one
   * atomic UPDATE (`… WHERE status = 'pending' AND worker_token IS NULL`) before it is sent, and a run that
   * loses the claim moves on. A failed send is rescheduled with backoff (dead-lettered after its last
   * attempt); a database error propagates, so the run fails.
   */
  async processDueRetries(signal?: AbortSignal): Promise<ProcessDueRetriesResult> {
    const token = randomUUID();
    const { rows: due } = await this.db.query<{ id: number }>(
      `SELECT id FROM notification_retries
       WHERE status = 'pending' AND worker_token IS NULL AND next_attempt_at <= now() AND expires_at > now()
       ORDER BY next_attempt_at, id LIMIT $1`,
      [this.options.batchSize],
    );
    const result: ProcessDueRetriesResult = { due: due.length, dispatched: 0, claimedElsewhere: 0, failed: 0, deadLettered: 0, duplicates: 0 };
    for (const { id } of due) {
      signal?.throwIfAborted();
      const entry = await this.claim(id, token);
      if (!entry) {
        result.claimedElsewhere += 1;
        continue;
      }
      try {
        const outcome = await this.delivery.deliver({
          tenantId: entry.tenant_id,
          correlationId: entry.correlation_id,
          attempt: entry.attempt,
          channel: entry.channel,
          recipient: entry.recipient,
          body: entry.body,
        });
        if (outcome === 'duplicate') result.duplicates += 1;
        await this.db.query(`UPDATE notification_retries SET status = 'dispatched', updated_at = now() WHERE id = $1 AND worker_token = $2`, [id, token]);
        result.dispatched += 1;
      } catch (error) {
        if (!(error instanceof DeliveryFailedError)) {
          await this.release(id, token).catch(() => undefined);
          throw error;
        }
        result.failed += 1;
        if (await this.rescheduleOrDeadLetter(entry, token, error.message)) result.deadLettered += 1;
      }
    }
    this.logger.log(
      `Retries: ${result.dispatched} dispatched, ${result.failed} failed, ${result.claimedElsewhere} claimed by another run, ${result.duplicates} duplicates refused.`,
    );
    return result;
  }

  /** The per-entry atomic claim: at most one run ever gets the row back. */
  private async claim(id: number, token: string): Promise<ClaimedEntry | undefined> {
    const { rows } = await this.db.query<ClaimedEntry>(
      `UPDATE notification_retries SET worker_token = $1, claimed_at = now(), updated_at = now()
       WHERE id = $2 AND status = 'pending' AND worker_token IS NULL
       RETURNING id, tenant_id, correlation_id, channel, recipient, body, attempt, max_attempts`,
      [token, id],
    );
    return rows[0];
  }

  private async release(id: number, token: string): Promise<void> {
    await this.db.query('UPDATE notification_retries SET worker_token = NULL, claimed_at = NULL WHERE id = $1 AND worker_token = $2', [id, token]);
  }

  /** True when the entry ran out of attempts and was dead-lettered (both writes in one transaction). */
  private async rescheduleOrDeadLetter(entry: ClaimedEntry, token: string, reason: string): Promise<boolean> {
    if (entry.attempt >= entry.max_attempts) {
      await this.db.transaction(async (tx) => {
        await tx.query(
          `UPDATE notification_retries SET status = 'expired', last_error = $3, updated_at = now() WHERE id = $1 AND worker_token = $2`,
          [entry.id, token, reason],
        );
        await tx.query(
          `INSERT INTO notification_dead_letters (tenant_id, correlation_id, channel, recipient, body, attempts, reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [entry.tenant_id, entry.correlation_id, entry.channel, entry.recipient, entry.body, entry.attempt, reason],
        );
      });
      return true;
    }
    // NOTE: the next attempt has its own number, so its delivery is a new (correlation, attempt, channel) key.
    await this.db.query(
      `UPDATE notification_retries
       SET attempt = attempt + 1, worker_token = NULL, claimed_at = NULL, last_error = $3, updated_at = now(),
           next_attempt_at = now() + make_interval(mins => (2 ^ attempt)::int)
       WHERE id = $1 AND worker_token = $2`,
      [entry.id, token, reason],
    );
    return false;
  }
}
