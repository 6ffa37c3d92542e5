/** Cron arithmetic and checks core needs (misfire, schedule validation), provided by the entry with the parser BullMQ itself uses. */
export abstract class CronCalendar {
  /** Ticks of `cron` (in `timezone`) after `after` and no later than `until` (ms), counted up to `max`. */
  abstract ticksBetween(cron: string, timezone: string, after: Date, until: number, max: number): number;
  /** Why `pattern` is not a 5- or 6-field cron expression, or undefined when it is fine. */
  abstract cronProblem(pattern: unknown, timezone: string): string | undefined;
  /** True when `timezone` is an IANA zone this runtime knows. */
  abstract isKnownTimezone(timezone: unknown): boolean;
}
