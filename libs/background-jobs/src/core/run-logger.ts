import { Injectable, Logger, LoggerService, LogLevel } from '@nestjs/common';
import { JobEvent, JobEventBase, JobEventFailure } from '../contracts';
import { JobEvents } from './job-events';

/**
 * Text as one log line: line breaks (and the Unicode line and paragraph separators) shown as `\n`, so a message
 * cannot start a line of its own that looks like another run's.
 */
export function oneLine(text: string): string {
  return text.replace(/\r\n|[\r\n\u2028\u2029]/g, '\\n');
}

/** `job=… execution=… tenant=… attempt=n/total`: the fields every run line starts with, so one grep follows a run. */
export function runLabel(event: JobEventBase): string {
  return `job=${event.jobId} execution=${event.executionId} tenant=${event.tenantId ?? 'null'} attempt=${event.attempt}/${event.attempts}`;
}

/**
 * The run lines of the `BackgroundJobs` logger, written from the job events like any other listener. The stack goes
 * with permanent and unrecognised errors, once per failed attempt; a deliberate cancel is LOG, a retry WARN.
 */
@Injectable()
export class RunLogger {
  private readonly logger = new Logger('BackgroundJobs');

  constructor(events: JobEvents) {
    events.on(
      ['started', 'completed', 'skipped', 'retrying', 'cancelled', 'failed'],
      (event) => this.write(event),
      'The run logger',
    );
  }

  private write(event: JobEvent): void {
    // NOTE: `started` and `completed` are DEBUG lines on every run: when the logger in use says it drops DEBUG (Nest's
    // ConsoleLogger, or any logger with `isLevelEnabled`), their strings are not built (ADR 0005). A
    // logger without `isLevelEnabled` gets every line.
    if ((event.name === 'started' || event.name === 'completed') && !this.debugEnabled()) return;
    const label = runLabel(event);
    switch (event.name) {
      case 'started':
        return this.logger.debug(`started ${label}`);
      case 'completed':
        return this.logger.debug(`completed ${label} in ${Math.round(event.durationMs)} ms`);
      case 'skipped':
        return this.logger.log(`skipped ${label} in ${Math.round(event.durationMs)} ms: ${oneLine(event.reason)}`);
      case 'cancelled':
        // NOTE: a cancel is someone's decision, not a fault: LOG, so it does not page anyone.
        return this.logger.log(
          `cancelled ${label} kind=${event.failure.kind} after ${Math.round(event.durationMs)} ms: ${oneLine(event.failure.message)}`,
        );
      case 'retrying':
        return this.logger.warn(
          `retrying ${label} kind=${event.failure.kind}: failed after ${Math.round(event.durationMs)} ms, next attempt in ${event.retryDelayMs} ms: ${oneLine(event.failure.message)}`,
          ...stackOf(event.failure),
        );
      case 'failed':
        return this.logger.error(
          `failed ${label} kind=${event.failure.kind} after ${Math.round(event.durationMs)} ms: ${oneLine(event.failure.message)}`,
          ...stackOf(event.failure),
        );
    }
  }
  private debugEnabled(): boolean {
    const target = this.logger.localInstance as
      (LoggerService & { isLevelEnabled?(level: LogLevel): boolean }) | undefined;
    return typeof target?.isLevelEnabled !== 'function' || target.isLevelEnabled('debug');
  }
}

/** The error's stack, for permanent and unrecognised failures only (an expected transient error needs none). */
function stackOf(failure: JobEventFailure): string[] {
  if (failure.kind !== 'permanent' && !failure.unrecognised) return [];
  return failure.error instanceof Error && failure.error.stack ? [failure.error.stack] : [];
}
