/** Cron arithmetic core needs (misfire), provided by the entry with the parser BullMQ itself uses. */
export abstract class CronCalendar {
  /** Ticks of `cron` (in `timezone`) after `after` and no later than `until` (ms), counted up to `max`. */
  abstract ticksBetween(cron: string, timezone: string, after: Date, until: number, max: number): number;
}
