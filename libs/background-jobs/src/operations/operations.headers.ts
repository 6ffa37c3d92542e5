import { ArgumentsHost, CallHandler, Catch, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import { Observable } from 'rxjs';
import { DASHBOARD_PAGE_CSP } from './dashboard.assets';

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
