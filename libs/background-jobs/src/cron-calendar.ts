import { CronExpressionParser } from 'cron-parser';
import { CronCalendar } from './core';
import { cronProblem, isKnownTimezone } from './cron-validation';

/** CronCalendar on cron-parser, the parser BullMQ computes its scheduler ticks with. */
export class CronParserCalendar extends CronCalendar {
  ticksBetween(cron: string, timezone: string, after: Date, until: number, max: number): number {
    const ticks = CronExpressionParser.parse(cron, { tz: timezone, currentDate: after });
    let count = 0;
    while (count < max && ticks.next().getTime() <= until) count += 1;
    return count;
  }

  cronProblem(pattern: unknown, timezone: string): string | undefined {
    return cronProblem(pattern, timezone);
  }

  isKnownTimezone(timezone: unknown): boolean {
    return isKnownTimezone(timezone);
  }
}
