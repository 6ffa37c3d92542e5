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
  /** Entries taken over from a claim older than the lease (its holder died or stalled). */
  recovered: number;
  /** Entries whose claim this run lost to a newer one before it finished: its writes were rejected. */
  claimsLost: number;
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
  fencing_token: number;
}

/** A claim is stale, and may be taken over, once it is older than the lease ($n: milliseconds). */
const STALE_CLAIM = (param: string) =>
  `(worker_token IS NULL OR claimed_at < now() - ${param}::int * interval '1 millisecond')`;

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
         WHERE status = 'pending' AND ${STALE_CLAIM('$1')} AND expires_at <= now()
         RETURNING tenant_id, correlation_id, channel, recipient, body, attempt, last_error
       )
       INSERT INTO notification_dead_letters (tenant_id, correlation_id, channel, recipient, body, attempts, reason)
       SELECT tenant_id, correlation_id, channel, recipient, body, attempt,
              'expired before delivery' || coalesce(': ' || last_error, '')
       FROM expired`,
      [this.options.claimLeaseMs],
    );
    if (rowCount > 0)
      this.logger.log(`Expired ${rowCount} retry entr${rowCount === 1 ? 'y' : 'ies'} into dead letters.`);
    return { expired: rowCount };
  }

  /**
   * Delivers every due entry exactly once across any number of concurrent runs: each entry is claimed with one
   * atomic UPDATE (`… WHERE status = 'pending' AND worker_token IS NULL`, or a claim older than the lease) before it
   * is sent, and a run that loses the claim moves on. Each claim raises the entry's fencing token, which the
   * delivery carries, so a holder that stalled past its lease cannot finish what the next one took over. A failed
   * send is rescheduled with backoff (dead-lettered after its last attempt); a database error propagates, so the
   * run fails.
   */
  async processDueRetries(signal?: AbortSignal): Promise<ProcessDueRetriesResult> {
    const token = randomUUID();
    const { rows: due } = await this.db.query<{ id: number; stranded: boolean }>(
      `SELECT id, worker_token IS NOT NULL AS stranded FROM notification_retries
       WHERE status = 'pending' AND ${STALE_CLAIM('$2')} AND next_attempt_at <= now() AND expires_at > now()
       ORDER BY next_attempt_at, id LIMIT $1`,
      [this.options.batchSize, this.options.claimLeaseMs],
    );
    const result: ProcessDueRetriesResult = {
      due: due.length,
      dispatched: 0,
      claimedElsewhere: 0,
      failed: 0,
      deadLettered: 0,
      duplicates: 0,
      recovered: 0,
      claimsLost: 0,
    };
    for (const { id, stranded } of due) {
      signal?.throwIfAborted();
      const entry = await this.claim(id, token);
      if (!entry) {
        result.claimedElsewhere += 1;
        continue;
      }
      if (stranded) result.recovered += 1;
      try {
        const outcome = await this.delivery.deliver({
          tenantId: entry.tenant_id,
          correlationId: entry.correlation_id,
          attempt: entry.attempt,
          channel: entry.channel,
          recipient: entry.recipient,
          body: entry.body,
          fencingToken: entry.fencing_token,
        });
        if (outcome === 'duplicate') result.duplicates += 1;
        const marked = await this.db.query(
          `UPDATE notification_retries SET status = 'dispatched', updated_at = now() WHERE id = $1 AND worker_token = $2`,
          [id, token],
        );
        if (outcome === 'superseded' || marked.rowCount === 0) result.claimsLost += 1;
        else result.dispatched += 1;
      } catch (error) {
        if (!(error instanceof DeliveryFailedError)) {
          await this.release(id, token).catch(() => undefined);
          throw error;
        }
        result.failed += 1;
        const outcome = await this.rescheduleOrDeadLetter(entry, token, error.message);
        if (outcome === 'dead-lettered') result.deadLettered += 1;
        if (outcome === 'claim-lost') result.claimsLost += 1;
      }
    }
    this.logger.log(
      `Retries: ${result.dispatched} dispatched, ${result.failed} failed, ${result.claimedElsewhere} claimed by another run, ` +
        `${result.recovered} recovered from an expired claim, ${result.claimsLost} claims lost, ${result.duplicates} duplicates refused.`,
    );
    return result;
  }

  /** The per-entry atomic claim: at most one run holds the row; a claim older than the lease can be taken over. */
  private async claim(id: number, token: string): Promise<ClaimedEntry | undefined> {
    const { rows } = await this.db.query<ClaimedEntry>(
      `UPDATE notification_retries SET worker_token = $1, claimed_at = now(), updated_at = now(), fencing_token = fencing_token + 1
       WHERE id = $2 AND status = 'pending' AND ${STALE_CLAIM('$3')}
       RETURNING id, tenant_id, correlation_id, channel, recipient, body, attempt, max_attempts, fencing_token`,
      [token, id, this.options.claimLeaseMs],
    );
    return rows[0];
  }

  private async release(id: number, token: string): Promise<void> {
    await this.db.query(
      'UPDATE notification_retries SET worker_token = NULL, claimed_at = NULL WHERE id = $1 AND worker_token = $2',
      [id, token],
    );
  }

  /** Dead-letters an entry out of attempts (both writes in one transaction), or reschedules it; nothing if the claim was lost. */
  private async rescheduleOrDeadLetter(
    entry: ClaimedEntry,
    token: string,
    reason: string,
  ): Promise<'rescheduled' | 'dead-lettered' | 'claim-lost'> {
    if (entry.attempt >= entry.max_attempts) {
      return this.db.transaction(async (tx) => {
        const expired = await tx.query(
          `UPDATE notification_retries SET status = 'expired', last_error = $3, updated_at = now() WHERE id = $1 AND worker_token = $2`,
          [entry.id, token, reason],
        );
        if (expired.rowCount === 0) return 'claim-lost';
        await tx.query(
          `INSERT INTO notification_dead_letters (tenant_id, correlation_id, channel, recipient, body, attempts, reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [entry.tenant_id, entry.correlation_id, entry.channel, entry.recipient, entry.body, entry.attempt, reason],
        );
        return 'dead-lettered';
      });
    }
    // NOTE: the next attempt has its own number, so its delivery is a new (correlation, attempt, channel) key.
    const rescheduled = await this.db.query(
      `UPDATE notification_retries
       SET attempt = attempt + 1, worker_token = NULL, claimed_at = NULL, last_error = $3, updated_at = now(),
           next_attempt_at = now() + make_interval(mins => (2 ^ attempt)::int)
       WHERE id = $1 AND worker_token = $2`,
      [entry.id, token, reason],
    );
    return rescheduled.rowCount === 0 ? 'claim-lost' : 'rescheduled';
  }
}
