import { Injectable, Logger } from '@nestjs/common';
import { NotificationDatabase } from '../database/notification.database';
import { DeliveryFailedError } from './delivery-failed.error';
import {
  Channel,
  EmailSender,
  NotificationSender,
  OutgoingMessage,
  SmsSender,
  WhatsAppSender,
} from './notification.senders';

/** A delivery request: the unique key of a delivery is (correlationId, attempt, channel). */
export interface DeliveryRequest extends OutgoingMessage {
  tenantId: string;
  channel: Channel;
  /** The fencing token of the caller's claim on the row this delivery comes from (a retry entry, an execution). */
  fencingToken: number;
}

/**
 * `sent`: sent now. `already-sent`: an earlier claim on the same row sent it (a run recovering a dead holder's
 * claim). `duplicate`: a claim as new as this one, or newer, has this delivery: nothing sent. `superseded`: sent,
 * but a newer claim took the delivery over meanwhile, so this holder's write was rejected.
 */
export type DeliveryOutcome = 'sent' | 'already-sent' | 'duplicate' | 'superseded';

/**
 * Sends through the channel's provider, recording each delivery first under UNIQUE (correlation_id, attempt,
 * channel): the secondary guard behind the callers' atomic claims. A delivery left `sending` by an older claim
 * (its holder died) is taken over by a newer one; every write carries the claim's fencing token, so an older
 * holder's late write is rejected. A failed send is recorded and thrown as DeliveryFailedError.
 */
@Injectable()
export class DeliveryEngine {
  private readonly logger = new Logger(DeliveryEngine.name);

  constructor(
    private readonly db: NotificationDatabase,
    private readonly email: EmailSender,
    private readonly sms: SmsSender,
    private readonly whatsapp: WhatsAppSender,
  ) {}

  async deliver(request: DeliveryRequest): Promise<DeliveryOutcome> {
    const fence = request.fencingToken;
    const recorded = await this.db.query<{ id: number }>(
      `INSERT INTO notification_deliveries (tenant_id, correlation_id, attempt, channel, recipient, status, fencing_token)
       VALUES ($1, $2, $3, $4, $5, 'sending', $6)
       ON CONFLICT (correlation_id, attempt, channel) DO UPDATE SET fencing_token = EXCLUDED.fencing_token
       WHERE notification_deliveries.status = 'sending' AND notification_deliveries.fencing_token < EXCLUDED.fencing_token
       RETURNING id`,
      [request.tenantId, request.correlationId, request.attempt, request.channel, request.recipient, fence],
    );
    if (recorded.rowCount === 0) return this.existing(request);
    const id = recorded.rows[0].id;
    let providerMessageId: string;
    try {
      ({ providerMessageId } = await this.sender(request.channel).send(request));
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      await this.db.query(
        `UPDATE notification_deliveries SET status = 'failed', error = $2 WHERE id = $1 AND fencing_token = $3`,
        [id, message, fence],
      );
      throw new DeliveryFailedError(`${request.channel} to ${request.recipient} failed: ${message}`, error);
    }
    const marked = await this.db.query(
      `UPDATE notification_deliveries SET status = 'sent', provider_message_id = $2 WHERE id = $1 AND fencing_token = $3`,
      [id, providerMessageId, fence],
    );
    if (marked.rowCount === 0) {
      this.logger.warn(
        `Delivery ${request.correlationId} attempt ${request.attempt} on ${request.channel} was taken over by a newer claim while sending.`,
      );
      return 'superseded';
    }
    return 'sent';
  }

  /** The key is taken: by an earlier claim that finished it, or by a claim at least as new as the caller's. */
  private async existing(request: DeliveryRequest): Promise<DeliveryOutcome> {
    const { rows } = await this.db.query<{ status: string; fencing_token: number; error: string | null }>(
      'SELECT status, fencing_token, error FROM notification_deliveries WHERE correlation_id = $1 AND attempt = $2 AND channel = $3',
      [request.correlationId, request.attempt, request.channel],
    );
    const row = rows[0];
    if (row && row.fencing_token < request.fencingToken) {
      if (row.status === 'sent') return 'already-sent';
      if (row.status === 'failed')
        throw new DeliveryFailedError(
          `${request.channel} to ${request.recipient} failed: ${row.error}`,
          new Error(row.error ?? 'failed'),
        );
    }
    this.logger.warn(
      `Duplicate delivery refused: ${request.correlationId} attempt ${request.attempt} on ${request.channel}.`,
    );
    return 'duplicate';
  }

  private sender(channel: Channel): NotificationSender {
    switch (channel) {
      case 'email':
        return this.email;
      case 'sms':
        return this.sms;
      case 'whatsapp':
        return this.whatsapp;
    }
  }
}
