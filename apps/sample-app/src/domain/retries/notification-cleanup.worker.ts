import { Inject, Injectable, Logger } from '@nestjs/common';
import { NotificationDatabase } from '../database/notification.database';
import { NOTIFICATION_DOMAIN_OPTIONS, NotificationDomainOptions } from '../notification-domain.options';

/** Rows one cleanup removed. */
export interface CleanupResult {
  deleted: number;
}

/** Dead-letter and stale-retry housekeeping. Both methods are idempotent: a second run finds nothing to do. */
@Injectable()
export class NotificationDeadLetterCleanupWorker {
  private readonly logger = new Logger(NotificationDeadLetterCleanupWorker.name);

  constructor(
    private readonly db: NotificationDatabase,
    @Inject(NOTIFICATION_DOMAIN_OPTIONS) private readonly options: NotificationDomainOptions,
  ) {}

  /** Deletes dead letters older than the retention. */
  async cleanupDeadLetters(signal?: AbortSignal): Promise<CleanupResult> {
    signal?.throwIfAborted();
    const { rowCount } = await this.db.query(
      `DELETE FROM notification_dead_letters WHERE failed_at < now() - make_interval(days => $1)`,
      [this.options.deadLetterRetentionDays],
    );
    this.logger.log(`Deleted ${rowCount} dead letter(s) older than ${this.options.deadLetterRetentionDays} days.`);
    return { deleted: rowCount };
  }

  /** Deletes dispatched and expired retry entries older than the retention. */
  async cleanupStaleRetries(signal?: AbortSignal): Promise<CleanupResult> {
    signal?.throwIfAborted();
    const { rowCount } = await this.db.query(
      `DELETE FROM notification_retries WHERE status IN ('dispatched', 'expired') AND updated_at < now() - make_interval(days => $1)`,
      [this.options.retryRetentionDays],
    );
    this.logger.log(
      `Deleted ${rowCount} finished retry entr${rowCount === 1 ? 'y' : 'ies'} older than ${this.options.retryRetentionDays} days.`,
    );
    return { deleted: rowCount };
  }
}
