import { LoggerService } from '@nestjs/common';

export type LogLevel = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';

/** One line a Nest logger was given: its level, message, context and any further parameters (a stack, say). */
export interface CapturedLine {
  level: LogLevel;
  message: string;
  context?: string;
  params: unknown[];
}

/** A Nest LoggerService that keeps every line; `moduleRef.useLogger(capture)` routes `new Logger(...)` lines here. */
export class LogCapture implements LoggerService {
  readonly lines: CapturedLine[] = [];

  log(message: unknown, ...params: unknown[]): void {
    this.record('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.record('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.record('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.record('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.record('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.record('fatal', message, params);
  }

  /** Lines at `level` whose message contains `text`. */
  find(level: LogLevel, text: string): CapturedLine[] {
    return this.lines.filter((line) => line.level === level && line.message.includes(text));
  }

  /** Messages of the BackgroundJobs context, as `LEVEL message` (for before/after notes). */
  jobLines(): string[] {
    return this.lines
      .filter((line) => line.context === 'BackgroundJobs')
      .map((line) => `${line.level.toUpperCase()} ${line.message}`);
  }

  private record(level: LogLevel, message: unknown, params: unknown[]): void {
    const last = params[params.length - 1];
    const context = typeof last === 'string' ? last : undefined;
    this.lines.push({
      level,
      message: String(message),
      context,
      params: context === undefined ? params : params.slice(0, -1),
    });
  }
}
