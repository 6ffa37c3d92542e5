import { ChildProcess } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { Client } from 'pg';
import { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { killChild } from '../support/child-process';
import { freePort } from '../support/redis-server';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../support/redis';
import { postgresTarget } from '../sample-app/support/sample-app';
import { PIPELINE_SCHEDULES } from '../../apps/sample-app/src/notification.schedules';
import { ARTIFACTS, describeWithChromium, launchChromium, spawnSampleApp } from './support/chromium';

const TOKEN = 'dashboard-browser-token';
/** Waits in the browser: the sample app's retries (3 attempts, 1 s then 2 s backoff) fit with room to spare. */
const UI_TIMEOUT_MS = 20_000;

interface Execution {
  executionId: string;
  state: string;
  failure?: { kind: string; message: string };
}

describeWithChromium('sample app dashboard in Chromium', () => {
  const postgres = postgresTarget();
  let prefix: string;
  let app: ChildProcess | undefined;
  let browser: Browser | undefined;

  afterEach(async () => {
    await browser?.close();
    if (app) await killChild(app);
    await deletePrefix(prefix);
    await postgres.cleanup();
  });

  it('signs in with OPS_TOKEN, shows the six schedules with their next runs, pauses one, watches a triggered run complete and a failed run fail; page and assets refuse requests without the token', async () => {
    prefix = randomPrefix('dash');
    const database = await postgres.fresh();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const sample = spawnSampleApp({
      PORT: String(port),
      OPS_TOKEN: TOKEN,
      REDIS_URL: testRedisUrl(),
      JOBS_PREFIX: prefix,
      DATABASE_URL: database.url,
      DATABASE_SCHEMA: database.schema,
      JOBS_MODE: '',
    });
    app = sample.child;
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const api = async <T>(path: string): Promise<T> =>
      (await request(base).get(`/jobs/${path}`).set(auth).expect(200)).body as T;

    await waitFor(
      'the sample app to print the dashboard URL',
      () => {
        if (app?.exitCode !== null) throw new Error(`sample app exited: ${sample.output()}`);
        return sample.output().includes(`dashboard: ${base}/jobs/ui`);
      },
      45_000,
      200,
    );

    // Without the token (or with a wrong one) the page, its script and its stylesheet are refused.
    for (const path of ['/jobs/ui', '/jobs/ui/js/app.js', '/jobs/ui/app.css']) {
      await request(base).get(path).expect(401);
      await request(base).get(path).set({ Authorization: 'Bearer wrong-token' }).expect(403);
      await request(base).get(path).set('Cookie', 'bgj_ops_session=forged').expect(401);
      await request(base).get(path).set(auth).expect(200);
    }

    browser = await launchChromium();
    // NOTE: a laptop screen; no extra headers: the page's own login form must carry the token.
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    mkdirSync(ARTIFACTS, { recursive: true });
    const shoot = async (name: string) => {
      const path = join(ARTIFACTS, `dashboard-${name}.png`);
      await page.screenshot({ path, fullPage: true });
      expect(statSync(path).size).toBeGreaterThan(10_000);
    };

    const first = await page.goto(`${base}/jobs/ui#/schedules`);
    expect(first?.status()).toBe(401);
    await shoot('login');
    await page.getByLabel('Operations token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Schedules' }).waitFor({ timeout: UI_TIMEOUT_MS });
    // The token is exchanged for a session cookie no page script can read.
    expect(await page.evaluate('document.cookie')).not.toContain(TOKEN);
    expect(await page.evaluate('document.cookie')).not.toContain('bgj_ops_session');

    // The six migrated jobs, each with a next run that is a tick of its cron.
    for (const { id, cron } of PIPELINE_SCHEDULES) {
      const row = page.locator(`tr[data-job="${id}"]`);
      await row.waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await row.locator('code').textContent()).toBe(cron);
      const next = await row.locator('td.next-run time').getAttribute('datetime');
      const nextRun = new Date(next as string);
      const tick = CronExpressionParser.parse(cron, {
        tz: 'UTC',
        currentDate: new Date(nextRun.getTime() - 1_000),
      }).next();
      expect(tick.toISOString()).toBe(nextRun.toISOString());
      expect(nextRun.getTime()).toBeGreaterThan(Date.now() - 60_000);
    }
    await shoot('schedules');

    // Pause one: the row shows it paused, with no next run, and the API agrees.
    const paused = 'notification-deadletter-cleanup-pipeline';
    // NOTE: by keyboard: focus the button and press Enter; focus then moves to the row's Resume button.
    await page.getByRole('button', { name: `Pause ${paused}` }).focus();
    await page.keyboard.press('Enter');
    const pausedRow = page.locator(`tr[data-job="${paused}"]`);
    await pausedRow.locator('td.paused .badge.paused').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await pausedRow.locator('td.next-run').textContent()).toBe('none while paused');
    await page.getByRole('button', { name: `Resume ${paused}` }).waitFor();
    expect(
      await page
        .getByRole('button', { name: `Resume ${paused}` })
        .evaluate((button) => button === button.ownerDocument.activeElement),
    ).toBe(true);
    await page.getByRole('status').getByText(`Paused ${paused}.`).waitFor();
    const recurring = await api<Array<{ jobId: string; paused: boolean }>>('recurring');
    expect(recurring.find((r) => r.jobId === paused)?.paused).toBe(true);
    await shoot('schedules-paused');

    // Trigger one and follow its run to completed, with its progress bar and log lines.
    const triggered = 'notification-retry-expire-pipeline';
    const completedRun = await triggerAndOpen(page, triggered);
    await page.locator('dd .badge.completed').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.locator('progress#run-progress').getAttribute('value')).toBe('100');
    const logLines = await page.locator('ol.logs li').allTextContents();
    expect(logLines[0]).toBe('attempt 1 started');
    expect(logLines[logLines.length - 1]).toMatch(/^completed: /);
    expect((await api<Execution>(`executions/${completedRun}`)).state).toBe('completed');
    await shoot('run-completed');

    // Break the domain (its campaigns table goes missing), trigger a job that needs it, and watch the run fail.
    const pg = new Client({ connectionString: database.url });
    await pg.connect();
    try {
      await pg.query(`ALTER TABLE "${database.schema}".campaigns RENAME TO campaigns_moved`);
    } finally {
      await pg.end();
    }
    const failing = 'campaign-cleanup-pipeline';
    await page.goto(`${base}/jobs/ui#/schedules`);
    const failedRun = await triggerAndOpen(page, failing);
    await page.locator('dd .badge.failed').waitFor({ timeout: UI_TIMEOUT_MS });
    const failure = (await api<Execution>(`executions/${failedRun}`)).failure;
    expect(failure?.message).toMatch(/campaigns.*does not exist/);
    expect(await page.locator('.failure-kind').textContent()).toBe(failure?.kind);
    expect(await page.locator('.failure-message').textContent()).toBe(failure?.message);
    await page.locator('details summary', { hasText: 'Stack' }).click();
    expect(await page.locator('pre.failure-stack').textContent()).toContain(failure?.message as string);
    await shoot('run-failed');

    // The runs page lists it under a state filter; the overview counts it among the last hour's failures.
    await page.goto(`${base}/jobs/ui#/runs`);
    await page.getByLabel('State').selectOption('failed');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page
      .getByRole('main')
      .getByRole('link', { name: failedRun, exact: true })
      .waitFor({ timeout: UI_TIMEOUT_MS });
    await shoot('runs-failed');
    await page.getByRole('link', { name: 'Overview' }).click();
    await page
      .getByRole('heading', { level: 2, name: /^Failures in the last hour: [1-9]/ })
      .waitFor({ timeout: UI_TIMEOUT_MS });
    await shoot('overview');

    expect(pageErrors).toEqual([]);
  }, 120_000);
});

/** Clicks a schedule's Trigger button, then the run link the status message offers; resolves the run's id. */
async function triggerAndOpen(page: Page, jobId: string): Promise<string> {
  await page.getByRole('button', { name: `Trigger ${jobId}` }).click();
  const link = page.getByRole('status').getByRole('link', { name: /^open run / });
  await link.waitFor({ timeout: UI_TIMEOUT_MS });
  const executionId = ((await link.textContent()) as string).replace(/^open run /, '');
  await link.click();
  await page.getByRole('heading', { level: 1, name: `Run ${executionId}` }).waitFor({ timeout: UI_TIMEOUT_MS });
  return executionId;
}
