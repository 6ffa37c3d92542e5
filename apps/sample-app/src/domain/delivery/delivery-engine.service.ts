import { Injectable, Logger } from '@nestjs/common';
import { NotificationDatabase } from '../database/notification.database';
import { DeliveryFailedError } from './delivery-failed.error';
import { Channel, EmailSender, NotificationSender, OutgoingMessage, SmsSender, WhatsAppSender } from './notification.senders';

/** A delivery request: the unique key of a delivery is (correlationId, attempt, channel). */
export interface DeliveryRequest extends OutgoingMessage {
  tenantId: string;
  channel: Channel;
}

/** `sent`; `duplicate` when this (correlation, attempt, channel) was already delivered or is being delivered. */
export type DeliveryOutcome = 'sent' | 'duplicate';

/**
 * Sends through the channel's provider, recording each delivery first under UNIQUE (correlation_id, attempt,
 * channel): the secondary guard behind the callers' atomic claims. A second delivery of the same key is
 * refused before anything is sent. A failed send is recorded and thrown as DeliveryFailedError.
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
    const recorded = await this.db.query<{ id: number }>(
      `INSERT INTO notification_deliveries (tenant_id, correlation_id, attempt, channel, recipient, status)
       VALUES ($1, $2, $3, $4, $5, 'sending')
       ON CONFLICT (correlation_id, attempt, channel) DO NOTHING RETURNING id`,
      [request.tenantId, request.correlationId, request.attempt, request.channel, request.recipient],
    );
    if (recorded.rowCount === 0) {
      this.logger.warn(`Duplicate delivery refused: ${request.correlationId} attempt ${request.attempt} on ${request.channel}.`);
      return 'duplicate';
    }
    const id = recorded.rows[0].id;
    let providerMessageId: string;
    try {
      ({ providerMessageId } = await this.sender(request.channel).send(request));
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      await this.db.query(`UPDATE notification_deliveries SET status = 'failed', error = $2 WHERE id = $1`, [id, message]);
      throw new DeliveryFailedError(`${request.channel} to ${request.recipient} failed: ${message}`, error);
    }
    await this.db.query(`UPDATE notification_deliveries SET status = 'sent', provider_message_id = $2 WHERE id = $1`, [id, providerMessageId]);
    return 'sent';
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
