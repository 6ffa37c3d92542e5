import { BadRequestException, CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { DASHBOARD_CSRF_HEADER, DASHBOARD_SESSION_COOKIE, readCookie } from './dashboard.assets';
import { DashboardSession, DashboardSessions } from './dashboard-sessions';
import { DASHBOARD_CSRF_REFUSED, DASHBOARD_SIGN_IN_BODY } from './operations.messages';

interface DashboardRequest {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

const SESSION = Symbol.for('nestjs-background-jobs:dashboard-session');

/** The session a request was signed in with (set by DashboardSessionGuard), if any. */
export function dashboardSessionOf(request: object): DashboardSession | undefined {
  return (request as Record<symbol, DashboardSession | undefined>)[SESSION];
}

const isRead = (method: string | undefined): boolean => method === 'GET' || method === 'HEAD';

/**
 * Runs before the host's guard on everything under `<path>/ui`. A request with the session cookie is presented to
 * the host's guard as `Authorization: Bearer <the token signed in with>`, so the host's guard still decides on every
 * request; an action (not GET/HEAD) made with the session must carry the session's CSRF header, and a CSRF header
 * is accepted only together with its session. A request with its own Authorization header is left as it is.
 */
@Injectable()
export class DashboardSessionGuard implements CanActivate {
  constructor(private readonly sessions: DashboardSessions) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<DashboardRequest>();
    if (request.headers.authorization !== undefined) return true;
    const session = this.sessions.get(readCookie(request.headers.cookie, DASHBOARD_SESSION_COOKIE));
    const csrf = request.headers[DASHBOARD_CSRF_HEADER];
    if (!session) {
      if (csrf !== undefined && !isRead(request.method)) throw new ForbiddenException(DASHBOARD_CSRF_REFUSED);
      return true;
    }
    if (!isRead(request.method) && !DashboardSessions.csrfMatches(session, csrf)) {
      throw new ForbiddenException(DASHBOARD_CSRF_REFUSED);
    }
    request.headers.authorization = `Bearer ${session.token}`;
    (request as unknown as Record<symbol, DashboardSession>)[SESSION] = session;
    return true;
  }
}

/** Longest token the sign-in form accepts. */
const MAX_TOKEN_LENGTH = 4096;

/**
 * Runs before the host's guard on the sign-in route: presents the posted token as `Authorization: Bearer <token>`,
 * so the host's guard decides whether it may sign in. The route also demands the CSRF header (any value): a
 * cross-site form cannot send one, so no other site can sign a browser in.
 */
@Injectable()
export class DashboardSignInGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<DashboardRequest>();
    if (request.headers[DASHBOARD_CSRF_HEADER] === undefined) throw new ForbiddenException(DASHBOARD_CSRF_REFUSED);
    const token = (request.body as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH || /\s/.test(token)) {
      throw new BadRequestException(DASHBOARD_SIGN_IN_BODY(MAX_TOKEN_LENGTH));
    }
    request.headers.authorization = `Bearer ${token}`;
    return true;
  }
}
