import {
  All,
  Controller,
  Get,
  Header,
  NotFoundException,
  Param,
  Req,
  Type,
  UseFilters,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { DEFAULTS } from '../core';
import { DashboardLoginFilter } from './dashboard-login.filter';
import { dashboardSessionOf, DashboardSessionGuard } from './dashboard-session.guard';
import {
  DASHBOARD_CSRF_HEADER,
  DASHBOARD_SCRIPTS,
  DASHBOARD_SESSION_COOKIE,
  dashboardAssets,
  fillTemplate,
  requestPath,
} from './dashboard.assets';
import { FINAL_STATES } from '../contracts';
import { FAILURE_KINDS, JOB_STATES } from './operations.constants';
import { OperationsHeadersFilter, OperationsHeadersInterceptor } from './operations.headers';
import type { ResolvedOperations } from './operations.mount';
import { isOperationsReadOnly } from './operations-token.guard';

type PageRequest = { originalUrl?: string; url?: string };

/** What `GET <path>/ui/config.json` answers: the page's settings and constants, from the server's own source. */
export interface DashboardConfig {
  /** Where the page calls the REST routes: `<path>/ui/api`, under the session cookie's path. */
  api: string;
  csrfHeader: string;
  /** This session's CSRF value; null when the request came with its own Authorization header. */
  csrf: string | null;
  readOnly: boolean;
  states: readonly string[];
  finalStates: readonly string[];
  failureKinds: readonly string[];
  pageSize: number;
  sessionCookie: string;
}

/**
 * The dashboard: one HTML page, its stylesheet, its scripts and its settings, all behind the host's guard. The page
 * reads and acts through the REST routes, mounted a second time under `<path>/ui/api` so the session cookie reaches
 * them; there is no second API.
 */
export class DashboardController {
  @Get()
  @UseFilters(DashboardLoginFilter)
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(@Req() request: PageRequest): string {
    return fillTemplate(dashboardAssets().page, { ui: requestPath(request) });
  }

  @Get('config.json')
  config(@Req() request: PageRequest): DashboardConfig {
    const ui = requestPath(request).replace(/\/config\.json$/, '');
    return {
      api: `${ui}/api`,
      csrfHeader: DASHBOARD_CSRF_HEADER,
      csrf: dashboardSessionOf(request)?.csrf ?? null,
      readOnly: isOperationsReadOnly(request),
      states: JOB_STATES,
      finalStates: FINAL_STATES,
      failureKinds: FAILURE_KINDS,
      pageSize: DEFAULTS.pageSize,
      sessionCookie: DASHBOARD_SESSION_COOKIE,
    };
  }

  @Get('app.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  css(): string {
    return dashboardAssets().css;
  }

  @Get('js/:name')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  script(@Param('name') name: string): string {
    const scripts = dashboardAssets().scripts;
    if (!(DASHBOARD_SCRIPTS as readonly string[]).includes(name)) throw new NotFoundException();
    return scripts[name];
  }
}

/** Answers 404 for any other path under `<path>/ui`, with the same headers as every dashboard answer. */
export class DashboardNotFoundController {
  @All('*rest')
  notFound(): never {
    throw new NotFoundException();
  }
}

/** Builds the dashboard controller for `<path>/ui` behind the host's guard (after DashboardSessionGuard). */
export function createDashboardController(operations: Pick<ResolvedOperations, 'guard' | 'path'>): Type {
  @Controller(`${operations.path}/ui`)
  @UseGuards(DashboardSessionGuard, operations.guard as Function)
  @UseInterceptors(OperationsHeadersInterceptor)
  @UseFilters(OperationsHeadersFilter)
  class BackgroundJobsDashboardController extends DashboardController {}
  return BackgroundJobsDashboardController;
}

/** The catch-all 404 under `<path>/ui`; mounted after every other dashboard route. */
export function createDashboardNotFoundController(operations: Pick<ResolvedOperations, 'path'>): Type {
  @Controller(`${operations.path}/ui`)
  @UseFilters(OperationsHeadersFilter)
  class BackgroundJobsDashboardNotFoundController extends DashboardNotFoundController {}
  return BackgroundJobsDashboardNotFoundController;
}
