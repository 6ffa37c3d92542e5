import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { DASHBOARD_COOKIE, readCookie } from './dashboard.assets';

/**
 * Runs before the host's guard on the dashboard's own routes (page and assets, all GET): a browser cannot add an
 * Authorization header to a navigation or a `<script src>`, so the token the login page stored in a cookie is
 * presented to the host's guard as `Authorization: Bearer <token>`. It never lets a request through by itself:
 * the host's guard decides. The REST routes do not read the cookie (the page sends the header itself), so a
 * cross-site form cannot pause or cancel anything with it.
 */
@Injectable()
export class DashboardCookieGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context
      .switchToHttp()
      .getRequest<{ method?: string; headers: Record<string, string | string[] | undefined> }>();
    if (request.method === 'GET' && !request.headers.authorization) {
      const token = readCookie(request.headers.cookie, DASHBOARD_COOKIE);
      if (token) request.headers.authorization = `Bearer ${token}`;
    }
    return true;
  }
}
