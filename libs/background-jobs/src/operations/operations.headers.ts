import {
  applyDecorators,
  ArgumentsHost,
  CallHandler,
  Catch,
  Controller,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  UseFilters,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import { Observable } from 'rxjs';
import { DASHBOARD_PAGE_CSP } from './dashboard.assets';
import { ReadOnlyActionsGuard } from './operations-token.guard';

/**
 * Headers on every answer of the operations surface and its dashboard, errors and 404s included: answers carry
 * payloads, tenant ids and failure messages, so no cache keeps them, no browser sniffs them into another type, no
 * Referer leaks a run's URL, and no other site frames them.
 */
export const OPERATIONS_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': DASHBOARD_PAGE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
};

type Adapter = NonNullable<HttpAdapterHost['httpAdapter']>;

function setSecurityHeaders(adapter: Adapter | undefined, response: unknown): void {
  if (!adapter) return;
  for (const [name, value] of Object.entries(OPERATIONS_SECURITY_HEADERS)) adapter.setHeader(response, name, value);
}

/** Sets OPERATIONS_SECURITY_HEADERS before a handler of the operations surface runs. */
@Injectable()
export class OperationsHeadersInterceptor implements NestInterceptor {
  constructor(private readonly host: HttpAdapterHost) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    setSecurityHeaders(this.host.httpAdapter, context.switchToHttp().getResponse());
    return next.handle();
  }
}

/** Sets OPERATIONS_SECURITY_HEADERS on error answers (a guard's 401, a 404), then answers as Nest does. */
@Catch()
export class OperationsHeadersFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    this.secure(host);
    super.catch(exception, host);
  }

  protected secure(host: ArgumentsHost): void {
    setSecurityHeaders(this.httpAdapterHost?.httpAdapter, host.switchToHttp().getResponse());
  }
}

/**
 * The decorators every REST controller of the operations surface carries, in this order: its path, the guards that
 * run ahead of the host's (`before`: the dashboard's session guard where the page calls it), the host's guard, the
 * read-only check, and the security headers on every answer, errors included. One place, so a new controller cannot
 * be mounted without one of them.
 */
export function OperationsRestRoute(
  operations: { guard: unknown; path: string },
  before: Function[] = [],
): ClassDecorator {
  return applyDecorators(
    Controller(operations.path),
    UseGuards(...before, operations.guard as Function, ReadOnlyActionsGuard),
    UseInterceptors(OperationsHeadersInterceptor),
    UseFilters(OperationsHeadersFilter),
  );
}
