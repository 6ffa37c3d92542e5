import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The dashboard's session cookie: HttpOnly, SameSite=Strict, scoped to `<path>/ui`; it holds a random session id,
 * never the token (see DashboardSessions).
 */
export const DASHBOARD_SESSION_COOKIE = 'bgj_ops_session';

/** The header page actions carry: the session's CSRF value, accepted only together with that session's cookie. */
export const DASHBOARD_CSRF_HEADER = 'x-bgj-csrf';

// NOTE: files shipped beside this module (src/operations/ui, copied to dist/operations/ui by build:lib), read once
// when the dashboard is first mounted: plain HTML, CSS and JavaScript, so hosts get no frontend build step.
const UI_DIR = join(__dirname, 'ui');

/** The page's scripts, in load order (each an asset route of its own). */
export const DASHBOARD_SCRIPTS = [
  'core.js',
  'chart.js',
  'overview.js',
  'runs.js',
  'run-parts.js',
  'run.js',
  'waiting.js',
  'schedule-editor.js',
  'schedules.js',
  'jobs.js',
  'servers.js',
  'app.js',
] as const;

/** The dashboard's files, read from disk once. */
export interface DashboardAssets {
  page: string;
  css: string;
  scripts: Record<string, string>;
  login: string;
  /** Content-Security-Policy of the login page (its one inline script and style, by hash). */
  loginCsp: string;
}

const COMMON_CSP =
  "default-src 'none'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Content-Security-Policy of the page: scripts and styles from the dashboard's own asset routes only. */
export const DASHBOARD_PAGE_CSP = `${COMMON_CSP}; script-src 'self'; style-src 'self'`;

let cached: DashboardAssets | undefined;

export function dashboardAssets(): DashboardAssets {
  if (cached) return cached;
  const read = (name: string) => readFileSync(join(UI_DIR, name), 'utf8');
  const login = read('login.html');
  const hash = (tag: 'script' | 'style') => {
    const body = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(login)?.[1] ?? '';
    return `'sha256-${createHash('sha256').update(body).digest('base64')}'`;
  };
  cached = {
    page: read('index.html'),
    css: read('app.css'),
    scripts: Object.fromEntries(DASHBOARD_SCRIPTS.map((name) => [name, read(name)])),
    login,
    loginCsp: `${COMMON_CSP}; script-src ${hash('script')}; style-src ${hash('style')}`,
  };
  return cached;
}

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Fills `{{name}}` placeholders with HTML-escaped values. The values go in through a replacer function, so `$&`,
 * `` $` `` and `$'` in them stay literal text (a replacement string would expand them into parts of the template).
 */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) =>
    name in values ? escapeHtml(values[name]) : whole,
  );
}

/** One cookie's value from a Cookie header, or undefined. */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const raw = Array.isArray(header) ? header.join('; ') : header;
  for (const part of raw?.split(';') ?? []) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim()) || undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * The path the request reached, without query or trailing slash (it includes any global prefix of the host). Only
 * the path: an absolute-form request line (`GET http://elsewhere/jobs/ui`) cannot put a host into the page.
 */
export function requestPath(request: { originalUrl?: string; url?: string }): string {
  const raw = request.originalUrl ?? request.url ?? '';
  let path: string;
  try {
    path = new URL(raw, 'http://localhost').pathname;
  } catch {
    path = '';
  }
  return path.replace(/\/+$/, '');
}
