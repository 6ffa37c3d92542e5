import {
  Controller,
  Delete,
  HttpCode,
  Post,
  Req,
  Res,
  Type,
  UseFilters,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { DashboardSessionGuard, DashboardSignInGuard } from './dashboard-session.guard';
import { DASHBOARD_SESSION_COOKIE, readCookie, requestPath } from './dashboard.assets';
import { DashboardSessions } from './dashboard-sessions';
import { OperationsHeadersFilter, OperationsHeadersInterceptor } from './operations.headers';
import type { ResolvedOperations } from './operations.mount';
import { isOperationsReadOnly } from './operations-token.guard';

interface SessionRequest {
  originalUrl?: string;
  url?: string;
  secure?: boolean;
  protocol?: string;
  headers: Record<string, string | string[] | undefined>;
}

type CookieResponse = { setHeader?(name: string, value: string): void; header?(name: string, value: string): void };

function setCookie(response: CookieResponse, value: string): void {
  if (typeof response.setHeader === 'function') response.setHeader('Set-Cookie', value);
  else response.header?.('Set-Cookie', value);
}

/** The session cookie: HttpOnly (no page script reads it), SameSite=Strict, Secure on https, scoped to `<path>/ui`. */
function sessionCookie(request: SessionRequest, value: string, maxAgeSeconds: number): string {
  const ui = requestPath(request).replace(/\/session$/, '');
  const secure = request.secure === true || request.protocol === 'https';
  return (
    `${DASHBOARD_SESSION_COOKIE}=${value}; Path=${ui}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict` +
    (secure ? '; Secure' : '')
  );
}

/**
 * Sign-in and sign-out of the dashboard. Sign-in exchanges the token (checked by the host's guard) for a session
 * cookie that holds a random id; sign-out ends that session on the server and clears the cookie.
 */
export class DashboardSessionController {
  constructor(readonly sessions: DashboardSessions) {}

  signIn(request: SessionRequest, response: CookieResponse): { signedIn: true; readOnly: boolean } {
    const token = (request.headers.authorization as string).replace(/^Bearer /, '');
    const session = this.sessions.create(token);
    setCookie(response, sessionCookie(request, session.id, Math.floor((session.expiresAt - Date.now()) / 1000)));
    return { signedIn: true, readOnly: isOperationsReadOnly(request) };
  }

  signOut(request: SessionRequest, response: CookieResponse): { signedOut: true } {
    this.sessions.end(readCookie(request.headers.cookie, DASHBOARD_SESSION_COOKIE));
    setCookie(response, sessionCookie(request, '', 0));
    return { signedOut: true };
  }
}

/** Builds the session controller for `<path>/ui/session`: sign-in behind the host's guard, sign-out behind the CSRF check. */
export function createDashboardSessionController(operations: Pick<ResolvedOperations, 'guard' | 'path'>): Type {
  @Controller(`${operations.path}/ui/session`)
  @UseInterceptors(OperationsHeadersInterceptor)
  @UseFilters(OperationsHeadersFilter)
  class BackgroundJobsDashboardSessionController extends DashboardSessionController {
    constructor(sessions: DashboardSessions) {
      super(sessions);
    }

    @Post()
    @HttpCode(200)
    @UseGuards(DashboardSignInGuard, operations.guard as Function)
    override signIn(@Req() request: SessionRequest, @Res({ passthrough: true }) response: CookieResponse) {
      return super.signIn(request, response);
    }

    @Delete()
    @HttpCode(200)
    @UseGuards(DashboardSessionGuard)
    override signOut(@Req() request: SessionRequest, @Res({ passthrough: true }) response: CookieResponse) {
      return super.signOut(request, response);
    }
  }
  return BackgroundJobsDashboardSessionController;
}
