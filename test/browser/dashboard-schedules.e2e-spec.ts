import { INestApplication } from '@nestjs/common';
import { Browser } from 'playwright-core';
import { BackgroundJobs, JobContext, OperationsTokenGuard, PermanentJobError } from 'nestjs-background-jobs';
import { DASHBOARD_CSRF_HEADER } from 'nestjs-background-jobs/operations/dashboard.assets';
import { OPERATIONS_READ_ONLY_ACTION } from 'nestjs-background-jobs/operations/operations.messages';
import { defineJob, startHttpJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, waitFor } from '../support/redis';
import { describeWithChromium, launchChromium } from './support/chromium';
import { accessible, shoot, signIn, UI_TIMEOUT_MS } from './support/dashboard';

const FULL = 'schedules-browser-full-token';
const READ_ONLY = 'schedules-browser-read-only-token';

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

  it('enqueues a job with a payload from the definitions page (schema errors inline) and bulk-retries 20 failed runs after a confirmation', async () => {
    prefix = randomPrefix('djobs');
    let broken = true;
    const received: unknown[] = [];
    const Mail = defineJob(
      'MailJob',
      {
        id: 'mail',
        schema: (data: unknown) => {
          const to = (data as { to?: unknown } | undefined)?.to;
          if (typeof to !== 'string' || !to.includes('@')) throw new Error('"to" must be an e-mail address');
          return data;
        },
      },
      (ctx: JobContext) => {
        received.push(ctx.data);
      },
    );
    const Flaky = defineJob('FlakyJob', { id: 'flaky' }, () => {
      if (broken) throw new PermanentJobError('the downstream is down');
    });
    const app = await startHttpJobsApp(apps, prefix, [Mail, Flaky], {
      operations: { guard: new OperationsTokenGuard({ token: FULL }), ui: true },
    });
    const jobs = app.get(BackgroundJobs);
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await signIn(context, base, FULL);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Jobs' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('section[data-job="mail"] summary').click();
    await page.getByLabel('Payload (JSON) for mail').fill('{ "to": "nobody" }');
    await page.getByRole('button', { name: 'Enqueue mail' }).click();
    await page
      .locator('#enqueue-mail-error')
      .getByText('"to" must be an e-mail address')
      .waitFor({ timeout: UI_TIMEOUT_MS });
    await page.getByLabel('Payload (JSON) for mail').fill('{ "to": "ops@example.com" }');
    await page.getByRole('button', { name: 'Enqueue mail' }).click();
    const link = page.getByRole('status').getByRole('link', { name: /^open run / });
    await link.waitFor({ timeout: UI_TIMEOUT_MS });
    await link.click();
    await page.locator('dd .badge.completed').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(received).toEqual([{ to: 'ops@example.com' }]);
    await accessible(page, 'run page');

    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Jobs' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await accessible(page, 'jobs');
    await shoot(page, 'jobs');

    // Twenty failed runs; the failed-runs view retries them all after a confirmation.
    for (let i = 0; i < 20; i++) await jobs.enqueue(Flaky, undefined);
    const count = async (state: 'failed' | 'completed') =>
      (await jobs.listExecutions({ jobId: 'flaky', states: [state] })).total;
    await waitFor('20 failed runs', async () => (await count('failed')) === 20, UI_TIMEOUT_MS, 100);
    broken = false;
    await page.goto(`${base}/jobs/ui#/runs?state=failed&jobId=flaky`);
    const retryAll = page.getByRole('button', { name: 'Retry all 20 failed runs' });
    await retryAll.waitFor({ timeout: UI_TIMEOUT_MS });
    await accessible(page, 'failed runs');
    await shoot(page, 'failed-runs');
    const dialogs: string[] = [];
    page.once('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await retryAll.click();
    expect(dialogs).toEqual(['Retry 20 failed runs of flaky?']);
    expect(await count('failed')).toBe(20);
    page.once('dialog', (dialog) => void dialog.accept());
    await retryAll.click();
    await page.getByRole('status').getByText('Retried 20 failed runs.').waitFor({ timeout: UI_TIMEOUT_MS });
    await waitFor('20 retried runs completed', async () => (await count('completed')) === 20, UI_TIMEOUT_MS, 100);
    expect(await count('failed')).toBe(0);

    // The overview's live chart samples the run tallies every 5 s: runs finishing between samples raise a bar.
    await page.getByRole('link', { name: 'Overview', exact: true }).click();
    await page.locator('#chart-summary').waitFor({ timeout: UI_TIMEOUT_MS });
    for (let i = 0; i < 10; i++) await jobs.enqueue(Flaky, undefined);
    await waitFor(
      'a completed bar above zero',
      async () =>
        (await page
          .locator('svg.chart rect.bar-completed')
          .evaluateAll((bars) => bars.some((bar) => Number(bar.getAttribute('height')) > 0))) === true,
      UI_TIMEOUT_MS,
      250,
    );
    expect(await page.locator('#chart-summary').textContent()).toMatch(
      /^Latest: \d+ completed and 0 failed per minute/,
    );
    await accessible(page, 'overview');
    await shoot(page, 'overview');
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
