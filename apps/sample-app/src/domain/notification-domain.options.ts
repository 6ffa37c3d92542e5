export const NOTIFICATION_DOMAIN_OPTIONS = Symbol('sample-app:notification-domain-options');

/** Business settings of the notification domain (retention, batch sizes). */
export interface NotificationDomainOptions {
  /** Dead letters older than this are deleted. @default 30 */
  deadLetterRetentionDays: number;
  /** Dispatched or expired retry entries older than this are deleted. @default 7 */
  retryRetentionDays: number;
  /** Completed campaigns older than this are soft-deleted. @default 30 */
  campaignRetentionDays: number;
  /** Entries (or executions) one run looks at. @default 500 */
  batchSize: number;
  /**
   * How long a claim on a retry entry or a campaign execution holds without being renewed. A claim older than
   * this (its holder died or stalled) is taken over by the next run, with a new token and a higher fencing token.
   * @default 300000 (5 minutes)
   */
  claimLeaseMs: number;
}

export const DEFAULT_DOMAIN_OPTIONS: NotificationDomainOptions = {
  deadLetterRetentionDays: 30,
  retryRetentionDays: 7,
  campaignRetentionDays: 30,
  batchSize: 500,
  claimLeaseMs: 300_000,
};
