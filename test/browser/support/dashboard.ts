import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS } from './chromium';

/** Waits in the browser: page refreshes are 1 to 10 s apart; this leaves room for a loaded machine. */
export const UI_TIMEOUT_MS = 15_000;

/** The two screen widths every page is checked and photographed at: a laptop and a phone. */
export const WIDTHS = [
  { width: 1366, height: 768 },
  { width: 390, height: 844 },
] as const;

/** Opens `<base>/jobs/ui#/<route>`, is refused (401), signs in with the login form and waits for `heading`. */
export async function signIn(
  context: BrowserContext,
  base: string,
  token: string,
  route = 'schedules',
  heading = 'Schedules',
): Promise<Page> {
  const page = await context.newPage();
  const first = await page.goto(`${base}/jobs/ui#/${route}`);
  expect(first?.status()).toBe(401);
  await page.getByLabel('Operations token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: UI_TIMEOUT_MS });
  return page;
}

/** axe-core on the page as it is now: no serious or critical violations. */
export async function accessible(page: Page, where: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${where}: ${v.id} (${v.impact}) on ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad).toEqual([]);
}

/** The page's width beyond the viewport (0 when nothing makes the body scroll sideways). */
export function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate('document.documentElement.scrollWidth - window.innerWidth') as Promise<number>;
}

/**
 * Full-page screenshots at 1366 and 390 px (`dashboard-<name>-<width>.png` under test/artifacts); at each width the
 * body must not scroll sideways (wide tables scroll inside their own box or become one card per row). The viewport
 * goes back to 1366 px afterwards.
 */
export async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const size of WIDTHS) {
    await page.setViewportSize(size);
    // NOTE: a layout pass after the resize before measuring (two animation frames).
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
    expect({ page: name, width: size.width, overflow: await sidewaysOverflow(page) }).toEqual({
      page: name,
      width: size.width,
      overflow: 0,
    });
    const path = join(ARTIFACTS, `dashboard-${name}-${size.width}.png`);
    await page.screenshot({ path, fullPage: true });
    expect(statSync(path).size).toBeGreaterThan(5_000);
  }
  await page.setViewportSize(WIDTHS[0]);
}
