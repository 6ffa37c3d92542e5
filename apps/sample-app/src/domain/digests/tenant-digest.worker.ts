import { Injectable, Logger } from '@nestjs/common';
import { NotificationDatabase } from '../database/notification.database';

/** One tenant's day: what was sent, what failed, what was dead-lettered, what still waits. */
export interface TenantDigest {
  tenantId: string;
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  sent: number;
  failed: number;
  deadLetters: number;
  pendingRetries: number;
}

/**
 * The daily digest of one tenant's notifications, upserted under (tenant, day): idempotent, so a second run of
 * the same day rewrites the same row with fresher counts. Every read and the write are scoped to the tenant given.
 */
@Injectable()
export class TenantDigestWorker {
  private readonly logger = new Logger(TenantDigestWorker.name);

  constructor(private readonly db: NotificationDatabase) {}

  async digestDay(tenantId: string, day: Date, signal?: AbortSignal): Promise<TenantDigest> {
    signal?.throwIfAborted();
    const { rows } = await this.db.query<{
      tenant_id: string;
      day: string;
      sent: number;
      failed: number;
      dead_letters: number;
      pending_retries: number;
    }>(
      `WITH d AS (SELECT $2::date AS day, $2::date::timestamp AT TIME ZONE 'UTC' AS since, ($2::date + 1)::timestamp AT TIME ZONE 'UTC' AS until)
       INSERT INTO tenant_daily_digests (tenant_id, day, sent, failed, dead_letters, pending_retries)
       SELECT $1, d.day,
              (SELECT count(*)::int FROM notification_deliveries WHERE tenant_id = $1 AND status = 'sent' AND created_at >= d.since AND created_at < d.until),
              (SELECT count(*)::int FROM notification_deliveries WHERE tenant_id = $1 AND status = 'failed' AND created_at >= d.since AND created_at < d.until),
              (SELECT count(*)::int FROM notification_dead_letters WHERE tenant_id = $1 AND failed_at >= d.since AND failed_at < d.until),
              (SELECT count(*)::int FROM notification_retries WHERE tenant_id = $1 AND status = 'pending')
       FROM d
       ON CONFLICT (tenant_id, day) DO UPDATE SET sent = EXCLUDED.sent, failed = EXCLUDED.failed, dead_letters = EXCLUDED.dead_letters,
              pending_retries = EXCLUDED.pending_retries, updated_at = now()
       RETURNING tenant_id, to_char(day, 'YYYY-MM-DD') AS day, sent, failed, dead_letters, pending_retries`,
      [tenantId, day.toISOString().slice(0, 10)],
    );
    const row = rows[0];
    const digest: TenantDigest = {
      tenantId: row.tenant_id,
      day: row.day,
      sent: row.sent,
      failed: row.failed,
      deadLetters: row.dead_letters,
      pendingRetries: row.pending_retries,
    };
    this.logger.log(
      `Digest of tenant ${tenantId} for ${digest.day}: ${digest.sent} sent, ${digest.failed} failed, ${digest.deadLetters} dead letters.`,
    );
    return digest;
  }
}
