import { CronExpressionParser } from 'cron-parser';

// NOTE: the same parser BullMQ uses to compute job scheduler ticks, so what passes here is what BullMQ runs.
/** Returns why `pattern` is not a 5- or 6-field cron expression, or undefined when it is fine. */
export function cronProblem(pattern: unknown, timezone: string): string | undefined {
  if (typeof pattern !== 'string' || pattern.trim() === '') return 'expected a non-empty string';
  const fields = pattern.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return `it has ${fields.length} fields`;
  try {
    CronExpressionParser.parse(pattern, { tz: timezone, strict: false }).next();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** True when `timezone` is an IANA zone this runtime knows. */
export function isKnownTimezone(timezone: unknown): boolean {
  if (typeof timezone !== 'string' || timezone.length === 0) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}
