import { Inject, Injectable, Logger } from '@nestjs/common';
import { NotificationDatabase } from '../database/notification.database';
import { NOTIFICATION_DOMAIN_OPTIONS, NotificationDomainOptions } from '../notification-domain.options';

/** Campaigns one cleanup soft-deleted. */
export interface CampaignCleanupResult {
  softDeleted: number;
}

/** Soft-deletes completed campaigns past the retention: one set-based UPDATE, idempotent. */
@Injectable()
export class CampaignCleanupWorker {
  private readonly logger = new Logger(CampaignCleanupWorker.name);

  constructor(
    private readonly db: NotificationDatabase,
    @Inject(NOTIFICATION_DOMAIN_OPTIONS) private readonly options: NotificationDomainOptions,
  ) {}

  async cleanupCompletedCampaigns(signal?: AbortSignal): Promise<CampaignCleanupResult> {
    signal?.throwIfAborted();
    const { rowCount } = await this.db.query(
      `UPDATE campaigns SET deleted_at = now()
       WHERE status = 'completed' AND deleted_at IS NULL AND completed_at < now() - make_interval(days => $1)`,
      [this.options.campaignRetentionDays],
    );
    this.logger.log(
      `Soft-deleted ${rowCount} completed campaign(s) older than ${this.options.campaignRetentionDays} days.`,
    );
    return { softDeleted: rowCount };
  }
}
