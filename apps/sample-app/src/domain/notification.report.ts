import { Injectable } from '@nestjs/common';
import { NotificationDatabase } from './database/notification.database';

/** Counts a user would check: what was sent, and whether anything was sent twice. */
export interface DeliveryCounts {
  /** Messages the providers sent (rows of sent_messages). */
  sent: number;
  /** Sends beyond the first for one (correlation, attempt, channel): what a recipient would see twice. */
  duplicateSends: number;
  /** Delivery records (one per unique key). */
  deliveries: number;
}

@Injectable()
export class NotificationReport {
  constructor(private readonly db: NotificationDatabase) {}

  async deliveryCounts(): Promise<DeliveryCounts> {
    const { rows } = await this.db.query<DeliveryCounts>(
      `SELECT (SELECT count(*)::int FROM sent_messages) AS sent,
              (SELECT coalesce(sum(n - 1), 0)::int FROM (SELECT count(*) AS n FROM sent_messages GROUP BY correlation_id, attempt, channel) g) AS "duplicateSends",
              (SELECT count(*)::int FROM notification_deliveries) AS deliveries`,
    );
    return rows[0];
  }
}
