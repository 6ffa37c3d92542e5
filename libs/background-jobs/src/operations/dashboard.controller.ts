import { Controller, Get, Header, Req, Type, UseFilters, UseGuards } from '@nestjs/common';
import { DashboardCookieGuard } from './dashboard-cookie.guard';
import { DashboardLoginFilter } from './dashboard-login.filter';
import { DASHBOARD_PAGE_CSP, dashboardAssets, escapeHtml, requestPath } from './dashboard.assets';
import type { ResolvedOperations } from './operations.mount';

const NO_STORE = 'no-store';

/**
 * The dashboard: one HTML page, its stylesheet and its script, all behind the host's guard. The page's script
 * reads and acts through the REST routes of the same `operations.path`; there is no second API.
 */
export class DashboardController {
  @Get()
  @UseFilters(DashboardLoginFilter)
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', NO_STORE)
  @Header('Content-Security-Policy', DASHBOARD_PAGE_CSP)
  page(@Req() request: { originalUrl?: string; url?: string }): string {
    return dashboardAssets().page.replace(/\{\{ui\}\}/g, escapeHtml(requestPath(request)));
  }

  @Get('app.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', NO_STORE)
  css(): string {
    return dashboardAssets().css;
  }

  @Get('app.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', NO_STORE)
  js(): string {
    return dashboardAssets().js;
  }
}

/** Builds the dashboard controller for `<path>/ui` behind the host's guard (after DashboardCookieGuard). */
export function createDashboardController(operations: Pick<ResolvedOperations, 'guard' | 'path'>): Type {
  @Controller(`${operations.path}/ui`)
  @UseGuards(DashboardCookieGuard, operations.guard as Function)
  class BackgroundJobsDashboardController extends DashboardController {}
  return BackgroundJobsDashboardController;
}
