import { ArgumentsHost, Catch, HttpException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { DASHBOARD_COOKIE, dashboardAssets, escapeHtml, readCookie } from './dashboard.assets';

/**
 * When the host's guard refuses the dashboard page (401 or 403), answers with that status and a login form instead
 * of the guard's JSON: the form holds no data, it only asks for the token. Other errors keep Nest's default answer.
 */
@Catch(HttpException)
export class DashboardLoginFilter extends BaseExceptionFilter {
  override catch(exception: HttpException, host: ArgumentsHost): void {
    const status = exception.getStatus();
    if (status !== 401 && status !== 403) return super.catch(exception, host);
    const http = host.switchToHttp();
    const request = http.getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const response = http.getResponse();
    const adapter = this.httpAdapterHost?.httpAdapter;
    if (!adapter) return super.catch(exception, host);
    const assets = dashboardAssets();
    const refused =
      readCookie(request.headers.cookie, DASHBOARD_COOKIE) !== undefined || request.headers.authorization !== undefined;
    const notice = refused ? `The token was refused (${status}): ${exception.message}` : '';
    const body = assets.login.replace('{{notice}}', escapeHtml(notice)).replace('{{status}}', String(status));
    adapter.setHeader(response, 'Content-Type', 'text/html; charset=utf-8');
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    adapter.setHeader(response, 'Content-Security-Policy', assets.loginCsp);
    adapter.reply(response, body, status);
  }
}
