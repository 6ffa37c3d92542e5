import { Injectable } from '@nestjs/common';
import { NotificationDatabase } from '../database/notification.database';

export type Channel = 'email' | 'sms' | 'whatsapp';

/** One message to one recipient on one channel. */
export interface OutgoingMessage {
  correlationId: string;
  attempt: number;
  recipient: string;
  body: string;
}

/** A channel provider (an email service, an SMS gateway, the WhatsApp API). Throws when the send fails. */
export interface NotificationSender {
  send(message: OutgoingMessage): Promise<{ providerMessageId: string }>;
}

/** Email provider port. */
export abstract class EmailSender implements NotificationSender {
  abstract send(message: OutgoingMessage): Promise<{ providerMessageId: string }>;
}

/** SMS provider port. */
export abstract class SmsSender implements NotificationSender {
  abstract send(message: OutgoingMessage): Promise<{ providerMessageId: string }>;
}

/** WhatsApp provider port. */
export abstract class WhatsAppSender implements NotificationSender {
  abstract send(message: OutgoingMessage): Promise<{ providerMessageId: string }>;
}

/** Raised by the fake providers for a recipient whose address contains "bounce". */
export class SendRejectedError extends Error {
  override readonly name = 'SendRejectedError';
}

/**
 * The sample's stand-in for a real provider: it "sends" by recording the message in `sent_messages` (what the
 * recipient would receive; no unique key, so a duplicate send would show), and rejects any address containing
 * "bounce" so the retry path has something to do.
 */
@Injectable()
abstract class RecordingSender implements NotificationSender {
  protected abstract readonly channel: Channel;

  constructor(private readonly db: NotificationDatabase) {}

  async send(message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    if (message.recipient.includes('bounce'))
      throw new SendRejectedError(`${this.channel} provider rejected ${message.recipient}`);
    const { rows } = await this.db.query<{ id: number }>(
      'INSERT INTO sent_messages (channel, recipient, correlation_id, attempt, body) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [this.channel, message.recipient, message.correlationId, message.attempt, message.body],
    );
    return { providerMessageId: `${this.channel}-${rows[0].id}` };
  }
}

@Injectable()
export class RecordingEmailSender extends RecordingSender implements EmailSender {
  protected readonly channel = 'email' as const;
}

@Injectable()
export class RecordingSmsSender extends RecordingSender implements SmsSender {
  protected readonly channel = 'sms' as const;
}

@Injectable()
export class RecordingWhatsAppSender extends RecordingSender implements WhatsAppSender {
  protected readonly channel = 'whatsapp' as const;
}
