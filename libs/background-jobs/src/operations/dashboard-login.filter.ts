import { ArgumentsHost, Catch, HttpException } from '@nestjs/common';
import { dashboardAssets, DASHBOARD_SESSION_COOKIE, fillTemplate, readCookie } from './dashboard.assets';
import { OperationsHeadersFilter } from './operations.headers';
import { DASHBOARD_SESSION_ENDED } from './operations.messages';

/**
 * When the host's guard refuses the dashboard page (401 or 403), answers with that status and a sign-in form instead
 * of the guard's JSON: the form holds no data, it only asks for the token. Other errors keep Nest's default answer.
 */
@Catch()
export class DashboardLoginFilter extends OperationsHeadersFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    const status = exception instanceof HttpException ? exception.getStatus() : 500;
    const adapter = this.httpAdapterHost?.httpAdapter;
    if ((status !== 401 && status !== 403) || !adapter) return super.catch(exception, host);
    this.secure(host);
    const http = host.switchToHttp();
    const request = http.getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const response = http.getResponse();
    const assets = dashboardAssets();
    const cookie = readCookie(request.headers.cookie, DASHBOARD_SESSION_COOKIE);
    const notice =
      request.headers.authorization !== undefined
        ? `The token was refused (${status}): ${(exception as HttpException).message}`
        : cookie !== undefined
          ? DASHBOARD_SESSION_ENDED
          : '';
    const body = fillTemplate(assets.login, { notice, status: String(status) });
    adapter.setHeader(response, 'Content-Type', 'text/html; charset=utf-8');
    adapter.setHeader(response, 'Content-Security-Policy', assets.loginCsp);
    adapter.reply(response, body, status);
  }
}
