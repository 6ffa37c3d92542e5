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
}

export const DEFAULT_DOMAIN_OPTIONS: NotificationDomainOptions = {
  deadLetterRetentionDays: 30,
  retryRetentionDays: 7,
  campaignRetentionDays: 30,
  batchSize: 500,
};
