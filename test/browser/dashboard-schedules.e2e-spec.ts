import { INestApplication } from '@nestjs/common';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { BackgroundJobs, OperationsTokenGuard } from 'nestjs-background-jobs';
import { DASHBOARD_CSRF_HEADER } from 'nestjs-background-jobs/operations/dashboard.assets';
import { OPERATIONS_READ_ONLY_ACTION } from 'nestjs-background-jobs/operations/operations.messages';
import { defineJob, startHttpJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, waitFor } from '../support/redis';
import { ARTIFACTS, describeWithChromium, launchChromium } from './support/chromium';

const FULL = 'schedules-browser-full-token';
const READ_ONLY = 'schedules-browser-read-only-token';
const UI_TIMEOUT_MS = 15_000;

interface Recurring {
  scheduleId: string;
  jobId: string;
  paused: boolean;
  cron?: string;
  everyMs?: number;
}

describeWithChromium('dashboard schedules, sign-in and roles in Chromium', () => {
  let prefix: string;
  const apps: INestApplication[] = [];
  let browser: Browser | undefined;

  afterEach(async () => {
    await browser?.close();
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  async function signIn(context: BrowserContext, base: string, token: string): Promise<Page> {
    const page = await context.newPage();
    const first = await page.goto(`${base}/jobs/ui#/schedules`);
    expect(first?.status()).toBe(401);
    await page.getByLabel('Operations token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Schedules' }).waitFor({ timeout: UI_TIMEOUT_MS });
    return page;
  }

  /** axe-core on the page as it is now: no serious or critical violations. */
  async function accessible(page: Page, where: string): Promise<void> {
    const { violations } = await new AxeBuilder({ page }).analyze();
    const bad = violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${where}: ${v.id} (${v.impact}) on ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    expect(bad).toEqual([]);
  }

  async function shoot(page: Page, name: string): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const width of [1366, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 768 });
      const path = join(ARTIFACTS, `dashboard-${name}-${width}.png`);
      await page.screenshot({ path, fullPage: true });
      expect(statSync(path).size).toBeGreaterThan(5_000);
    }
    await page.setViewportSize({ width: 1366, height: 768 });
  }

  it('signs in without a readable token; pauses only the runtime schedule it names; creates, edits and deletes one; the read-only role sees no buttons and gets 403', async () => {
    prefix = randomPrefix('dsched');
    const Digest = defineJob('DigestJob', { id: 'digest', cron: '0 4 * * *' });
    const app = await startHttpJobsApp(apps, prefix, [Digest], {
      operations: { guard: new OperationsTokenGuard({ token: FULL, readOnlyToken: READ_ONLY }), ui: true },
    });
    const jobs = app.get(BackgroundJobs);
    await jobs.upsertSchedule('digest', { id: 'digest-eu', cron: '30 5 * * *', timezone: 'Europe/Berlin' });
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    const recurring = async (): Promise<Recurring[]> => (await jobs.listRecurring()) as Recurring[];
    const find = async (id: string) => (await recurring()).find((r) => r.scheduleId === id);

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const pageErrors: string[] = [];
    const page = await signIn(context, base, FULL);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    expect(await page.evaluate('document.cookie')).toBe('');
    const cookies = await context.cookies();
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite, c.path])).toEqual([
      ['bgj_ops_session', true, 'Strict', '/jobs/ui'],
    ]);
    expect(cookies[0].value).not.toContain(FULL);

    // Each schedule has a row of its own; pausing the runtime one leaves the job's own schedule running.
    await page.locator('tr[data-schedule="digest-eu"]').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('tr[data-schedule="digest"]').waitFor();
    await page.getByRole('button', { name: 'Pause digest-eu', exact: true }).click();
    await page.locator('tr[data-schedule="digest-eu"] td.paused .badge.paused').waitFor({ timeout: UI_TIMEOUT_MS });
    expect((await find('digest-eu'))?.paused).toBe(true);
    expect((await find('digest'))?.paused).toBe(false);
    await page.getByRole('button', { name: 'Resume digest-eu', exact: true }).click();
    await waitFor('digest-eu resumed', async () => (await find('digest-eu'))?.paused === false, UI_TIMEOUT_MS, 100);
    await accessible(page, 'schedules');
    await shoot(page, 'schedules');

    // Create a runtime schedule from the form; a bad value is shown next to the form, and nothing is made.
    await page.getByLabel('Schedule id').fill('digest-hourly');
    await page.getByLabel('Job', { exact: true }).fill('digest');
    await page.getByLabel('Every (ms)').fill('abc');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page
      .locator('#s-error')
      .getByText(/everyMs/)
      .waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await find('digest-hourly')).toBeUndefined();
    await page.getByLabel('Every (ms)').fill('3600000');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.locator('tr[data-schedule="digest-hourly"]').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await find('digest-hourly')).toMatchObject({ jobId: 'digest', everyMs: 3_600_000 });

    // Edit it: the form is filled with its values; save a cron instead of the interval.
    await page.getByRole('button', { name: 'Edit digest-hourly', exact: true }).click();
    await page.getByRole('heading', { level: 2, name: 'Edit runtime schedule digest-hourly' }).waitFor();
    expect(await page.getByLabel('Schedule id').inputValue()).toBe('digest-hourly');
    await page.getByLabel('Every (ms)').fill('');
    await page.getByLabel('Cron').fill('15 * * * *');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await waitFor(
      'the edit saved',
      async () => (await find('digest-hourly'))?.cron === '15 * * * *',
      UI_TIMEOUT_MS,
      100,
    );
    await page.locator('tr[data-schedule="digest-hourly"] code', { hasText: '15 * * * *' }).waitFor();

    // Delete it, after a confirmation.
    const dialogs: string[] = [];
    page.once('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Delete digest-hourly', exact: true }).click();
    await page.locator('tr[data-schedule="digest-hourly"]').waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    expect(dialogs).toEqual([expect.stringContaining('Delete runtime schedule digest-hourly?')]);
    expect(await find('digest-hourly')).toBeUndefined();
    expect((await recurring()).map((r) => r.scheduleId).sort()).toEqual(['digest', 'digest-eu']);

    // Sign out ends the session: the page asks for the token again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Operations token').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await context.cookies()).toEqual([]);

    // The read-only role: every schedule shown, no action button, no form; a forced action answers 403.
    const readOnlyContext = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const viewer = await signIn(readOnlyContext, base, READ_ONLY);
    await viewer.locator('tr[data-schedule="digest-eu"]').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await viewer.locator('main button').count()).toBe(0);
    expect(await viewer.locator('form.editor').count()).toBe(0);
    const forced = (await viewer.evaluate(`(async () => {
      const config = await (await fetch('${base}/jobs/ui/config.json')).json();
      const res = await fetch(config.api + '/recurring/digest/pause', {
        method: 'POST',
        headers: { '${DASHBOARD_CSRF_HEADER}': config.csrf },
      });
      return { status: res.status, body: await res.json() };
    })()`)) as { status: number; body: { message: string } };
    expect(forced).toEqual({
      status: 403,
      body: expect.objectContaining({ message: OPERATIONS_READ_ONLY_ACTION('POST') }),
    });
    expect((await find('digest'))?.paused).toBe(false);
    await accessible(viewer, 'schedules, read-only, 390 px');
    await shoot(viewer, 'schedules-read-only');

    expect(pageErrors).toEqual([]);
  }, 90_000);
});
