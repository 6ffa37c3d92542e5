import { Inject, Injectable, Logger } from '@nestjs/common';
import { NotificationDatabase } from '../database/notification.database';
import { NOTIFICATION_DOMAIN_OPTIONS, NotificationDomainOptions } from '../notification-domain.options';

/** What one `processDueCampaigns` run did. */
export interface CampaignSchedulerResult {
  /** Active campaigns whose next run was due. */
  due: number;
  /** Pending executions created (and next runs advanced). */
  scheduled: number;
  /** Due campaigns another run scheduled first. */
  scheduledElsewhere: number;
  /** Campaigns whose transaction failed: logged and rolled back; the others went on. */
  failed: number;
}

/**
 * Turns due campaigns into pending executions. Each campaign is scheduled in its own transaction (row-locked, so
 * a concurrent run skips it); a campaign that fails is logged and rolled back without failing the run. Only
 * reading the due campaigns (e.g. an unreachable database) fails the run.
 */
@Injectable()
export class CampaignSchedulerWorker {
  private readonly logger = new Logger(CampaignSchedulerWorker.name);

  constructor(
    private readonly db: NotificationDatabase,
    @Inject(NOTIFICATION_DOMAIN_OPTIONS) private readonly options: NotificationDomainOptions,
  ) {}

  async processDueCampaigns(signal?: AbortSignal): Promise<CampaignSchedulerResult> {
    const { rows: due } = await this.db.query<{ id: number; tenant_id: string; name: string }>(
      `SELECT id, tenant_id, name FROM campaigns
       WHERE status = 'active' AND deleted_at IS NULL AND next_run_at <= now()
       ORDER BY next_run_at, id LIMIT $1`,
      [this.options.batchSize],
    );
    const result: CampaignSchedulerResult = { due: due.length, scheduled: 0, scheduledElsewhere: 0, failed: 0 };
    for (const campaign of due) {
      signal?.throwIfAborted();
      try {
        if (await this.scheduleOne(campaign.id)) result.scheduled += 1;
        else result.scheduledElsewhere += 1;
      } catch (error) {
        // NOTE: per-campaign errors stay here by design: one broken campaign must not stop the others.
        result.failed += 1;
        this.logger.error(
          `Campaign ${campaign.id} "${campaign.name}" (tenant ${campaign.tenant_id}) was not scheduled: ${(error as Error).message}`,
        );
      }
    }
    this.logger.log(
      `Campaigns: ${result.scheduled} scheduled, ${result.failed} failed, ${result.scheduledElsewhere} scheduled by another run.`,
    );
    return result;
  }

  /** One campaign, one transaction: create the pending execution and advance next_run_at past now. */
  private scheduleOne(campaignId: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const locked = await tx.query(
        `SELECT id FROM campaigns WHERE id = $1 AND status = 'active' AND deleted_at IS NULL AND next_run_at <= now() FOR UPDATE`,
        [campaignId],
      );
      if (locked.rowCount === 0) return false;
      await tx.query(
        `INSERT INTO campaign_executions (campaign_id, tenant_id, scheduled_for)
         SELECT id, tenant_id, next_run_at FROM campaigns WHERE id = $1`,
        [campaignId],
      );
      // NOTE: a repeating campaign jumps to its first slot after now (missed slots are not made up); a one-shot one stops.
      await tx.query(
        `UPDATE campaigns SET next_run_at = CASE
           WHEN repeat_every_minutes IS NULL THEN NULL
           ELSE next_run_at + make_interval(mins => repeat_every_minutes *
                  (floor(extract(epoch FROM now() - next_run_at) / 60 / repeat_every_minutes)::int + 1))
         END
         WHERE id = $1`,
        [campaignId],
      );
      return true;
    });
  }
}
