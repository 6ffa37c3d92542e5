import { INestApplication } from '@nestjs/common';
import { Browser, Page } from 'playwright-core';
import { BackgroundJobs, JobContext, OperationsTokenGuard, PermanentJobError } from 'nestjs-background-jobs';
import { defineJob, startHttpJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, waitFor } from '../support/redis';
import { describeWithChromium, launchChromium } from './support/chromium';
import { accessible, shoot, signIn, UI_TIMEOUT_MS, WIDTHS } from './support/dashboard';

const TOKEN = 'pages-browser-token';
/** Text that would run or draw if any page put data into HTML instead of text. */
const MARKUP = '<img src=x onerror="window.__xss=1"><b>bold</b>';

describeWithChromium(
  'dashboard pages for waiting runs, batches and steps in Chromium; every page at 1366 and 390 px',
  () => {
    let prefix: string;
    const apps: INestApplication[] = [];
    let browser: Browser | undefined;
    let release: () => void = () => undefined;

    afterEach(async () => {
      release();
      await browser?.close();
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await deletePrefix(prefix);
    });

    it('shows why runs wait (limit, key, dependencies), a batch with its children and a run’s steps, all as text; every page passes axe and fits 390 px', async () => {
      prefix = randomPrefix('dpages');
      const opened = new Promise<void>((resolve) => (release = resolve));
      const Gate = defineJob(
        'GateJob',
        { id: 'gate', concurrency: { max: 1, key: ({ data }) => (data as { region: string }).region } },
        (ctx: JobContext) =>
          Promise.race([opened, new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))]),
      );
      const Then = defineJob('ThenJob', { id: 'then' });
      const Stepped = defineJob('SteppedJob', { id: 'stepped' }, async (ctx: JobContext) => {
        await ctx.step(`fetch ${MARKUP}`, () => 'rows');
        if ((ctx.data as { fail?: boolean } | undefined)?.fail) throw new PermanentJobError(`refused ${MARKUP}`);
        return ctx.step('store', () => 2);
      });
      const Digest = defineJob('DigestJob', { id: 'digest', cron: '0 4 * * *' });
      const app = await startHttpJobsApp(apps, prefix, [Gate, Then, Stepped, Digest], {
        operations: { guard: new OperationsTokenGuard({ token: TOKEN }), ui: true },
      });
      const jobs = app.get(BackgroundJobs);
      await app.listen(0, '127.0.0.1');
      const base = await app.getUrl();

      const holder = await jobs.enqueue('gate', { region: 'eu', note: 'holds the slot' });
      await waitFor('the holder running', async () => (await jobs.getExecution(holder))?.state === 'running');
      const held = await jobs.enqueue('gate', { region: 'eu', note: MARKUP });
      const then = await jobs.enqueue('then', undefined, { after: holder });
      const { batchId, executionIds } = await jobs.batch([
        { job: 'stepped' },
        { job: 'stepped', data: { fail: true } },
        { job: 'stepped' },
      ]);
      await waitFor('the held run and the continuation parked with their reasons', async () => {
        const [a, b] = await Promise.all([jobs.getExecution(held), jobs.getExecution(then)]);
        return a?.waiting?.reason === 'concurrency' && b?.waiting?.reason === 'dependencies';
      });
      await waitFor('the batch ended', async () => (await jobs.getBatch(batchId))?.state === 'failed');

      browser = await launchChromium();
      const context = await browser.newContext({ viewport: WIDTHS[0] });
      const login = await context.newPage();
      await login.goto(`${base}/jobs/ui`);
      await shoot(login, 'login');
      await login.close();
      const page = await signIn(context, base, TOKEN, 'waiting', 'Waiting runs');
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      const noMarkup = async (where: string) => {
        expect({ where, images: await page.locator('main img, main b').count() }).toEqual({ where, images: 0 });
        expect(await page.evaluate('window.__xss')).toBeUndefined();
      };

      // Waiting runs: the held run names its reason, limit and key; the continuation waits for its dependency.
      const heldRow = page.locator(`tr[data-run="${held}"]`);
      await heldRow.waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await heldRow.locator('td.waiting-reason').textContent()).toBe('concurrency');
      expect(await heldRow.locator('td[data-label="Limit"]').textContent()).toBe('gate');
      expect(await heldRow.locator('td[data-label="Key"]').textContent()).toBe('eu');
      expect(await page.locator(`tr[data-run="${then}"] td.waiting-reason`).textContent()).toBe('dependencies');
      // The cron job's next tick waits for its time, not for a worker.
      const tick = page.locator('tr[data-run]', { has: page.locator('td[data-label="Job"]', { hasText: /^digest$/ }) });
      expect(await tick.locator('td.waiting-reason').textContent()).toBe('its time');
      await accessible(page, 'waiting runs');
      await shoot(page, 'waiting');

      // The held run's page says why it waits; its payload is shown as text.
      await heldRow.getByRole('link', { name: held }).click();
      await page.getByRole('heading', { level: 2, name: 'Why it waits' }).waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await page.locator('dd.waiting-reason').textContent()).toBe('concurrency');
      expect(await page.locator('dd.waiting-limit').textContent()).toBe('gate');
      expect(await page.locator('dd.waiting-key').textContent()).toBe('eu');
      expect(await page.locator('pre', { hasText: 'onerror' }).textContent()).toContain(JSON.stringify(MARKUP));
      await noMarkup('held run');
      await accessible(page, 'waiting run');
      await shoot(page, 'run-waiting');

      // The continuation lists the run it waits for.
      await page.goto(`${base}/jobs/ui#/runs/${then}`);
      await page.getByRole('heading', { level: 2, name: 'Runs after 1 run' }).waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await page.locator('ul.dependencies a').textContent()).toBe(holder);
      await accessible(page, 'continuation');

      // The batch: its counts and its three runs, the failed one with its message as text. The run page left behind
      // refreshes every second; one of its refreshes is held until the batch page is shown, then answered: it must
      // not draw over the batch page (it did: the finished batch page does not refresh, so the run page stayed).
      const refresh = `**/api/executions/${then}`;
      let answerLate: () => void = () => undefined;
      const late = new Promise<void>((resolve) => (answerLate = resolve));
      await page.route(refresh, async (route) => {
        await late;
        await route.continue();
      });
      await page.waitForRequest(refresh, { timeout: UI_TIMEOUT_MS });
      await page.goto(`${base}/jobs/ui#/batches/${batchId}`);
      await page.getByRole('heading', { level: 1, name: `Batch ${batchId}` }).waitFor({ timeout: UI_TIMEOUT_MS });
      const answered = page.waitForEvent('requestfinished', (r) => r.url().endsWith(`/api/executions/${then}`));
      answerLate();
      await answered;
      await page.unroute(refresh);
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
      expect(await page.locator('main h1').textContent()).toBe(`Batch ${batchId}`);
      const count = (k: string) => page.locator(`[data-count="${k}"] dd`).textContent();
      expect([await count('total'), await count('completed'), await count('failed')]).toEqual(['3', '2', '1']);
      const children = page.locator('tr[data-run]');
      await children.nth(2).waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await children.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run')))).toEqual(executionIds);
      expect(await page.locator(`tr[data-run="${executionIds[1]}"]`).textContent()).toContain(`refused ${MARKUP}`);
      await noMarkup('batch');
      await accessible(page, 'batch');
      await shoot(page, 'batch');

      // A child's page: its place in the batch and its steps, names as text.
      await page.locator(`tr[data-run="${executionIds[0]}"]`).getByRole('link', { name: executionIds[0] }).click();
      await page.getByRole('heading', { level: 2, name: 'Steps (2)' }).waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await page.locator('tr[data-step] th').allTextContents()).toEqual([`fetch ${MARKUP}`, 'store']);
      expect(await page.locator('tr[data-step] .badge').allTextContents()).toEqual(['completed', 'completed']);
      expect(await page.locator('p.batch-of').textContent()).toBe(`Run 1 of batch ${batchId}.`);
      await noMarkup('steps');
      await accessible(page, 'run steps');
      await shoot(page, 'run-steps');
      await page.locator('p.batch-of a').click();
      await page.getByRole('heading', { level: 1, name: `Batch ${batchId}` }).waitFor({ timeout: UI_TIMEOUT_MS });

      // Every other page, at both widths, without sideways scrolling and without serious axe findings.
      const pages: Array<[string, string, string]> = [
        ['overview', '', 'Overview'],
        ['runs', 'runs', 'Runs'],
        ['runs-failed', 'runs?state=failed', 'Runs'],
        ['schedules', 'schedules', 'Schedules'],
        ['jobs', 'jobs', 'Jobs'],
        ['servers', 'servers', 'Servers'],
      ];
      for (const [name, route, heading] of pages) {
        await page.goto(`${base}/jobs/ui#/${route}`);
        await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: UI_TIMEOUT_MS });
        await page.locator('main table, main section').first().waitFor({ timeout: UI_TIMEOUT_MS });
        await noMarkup(name);
        await accessible(page, name);
        await shoot(page, `all-${name}`);
      }
      expect(pageErrors).toEqual([]);
      // NOTE: 50 to 70 s on the shared 2-core machine (axe and two screenshots on each of 11 pages): room for more load.
    }, 240_000);

    it('the Waiting page shows the backlog per tenant of a fair queue, the busiest first, and runs nothing holds back as waiting for a worker', async () => {
      prefix = randomPrefix('dtenants');
      const Fair = defineJob('FairImportJob', { id: 'fair-import', queue: 'imports', fairness: 'tenant' });
      // NOTE: no worker: the runs stay queued, so the backlog is what was enqueued.
      const app = await startHttpJobsApp(apps, prefix, [Fair], {
        operations: { guard: new OperationsTokenGuard({ token: TOKEN }), ui: true },
        worker: false,
      });
      const jobs = app.get(BackgroundJobs);
      for (const [tenantId, count] of [
        ['acme', 3],
        ['globex', 1],
        [null, 2],
      ] as const)
        for (let i = 0; i < count; i++) await jobs.enqueue(Fair, undefined, { tenantId });
      await app.listen(0, '127.0.0.1');
      browser = await launchChromium();
      const context = await browser.newContext({ viewport: WIDTHS[0] });
      const page = await signIn(context, base(app), TOKEN, 'waiting', 'Waiting runs');
      await page.getByRole('heading', { level: 2, name: 'Backlog per tenant' }).waitFor({ timeout: UI_TIMEOUT_MS });
      const backlog = await page
        .locator('tr[data-tenant]')
        .evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-tenant'), r.querySelector('td')?.textContent]));
      expect(backlog).toEqual([
        ['acme', '3'],
        ['-', '2'],
        ['globex', '1'],
      ]);
      expect(await page.locator('tr[data-run] td.waiting-reason').allTextContents()).toEqual(
        Array.from({ length: 6 }, () => 'a free worker'),
      );
      await accessible(page, 'waiting with backlog');
      await shoot(page, 'waiting-backlog');
    }, 60_000);

    it('by keyboard only: signs in, opens Schedules from the menu and pauses a schedule with Space, focus always visible', async () => {
      prefix = randomPrefix('dkeys');
      const Digest = defineJob('DigestJob', { id: 'digest', cron: '0 4 * * *' });
      const Report = defineJob('ReportJob', { id: 'report', cron: '0 5 * * *' });
      const app = await startHttpJobsApp(apps, prefix, [Digest, Report], {
        operations: { guard: new OperationsTokenGuard({ token: TOKEN }), ui: true },
      });
      const jobs = app.get(BackgroundJobs);
      await app.listen(0, '127.0.0.1');
      const base = await app.getUrl();
      browser = await launchChromium();
      const page = await (await browser.newContext({ viewport: WIDTHS[0] })).newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));

      await page.goto(`${base}/jobs/ui`);
      await tabTo(page, 'input#token');
      await page.keyboard.type(TOKEN);
      await tabTo(page, 'button[type="submit"]');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor({ timeout: UI_TIMEOUT_MS });

      await tabTo(page, 'a[data-nav="schedules"]');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: 'Schedules' }).waitFor({ timeout: UI_TIMEOUT_MS });
      await page.locator('tr[data-schedule="report"]').waitFor({ timeout: UI_TIMEOUT_MS });
      await tabTo(page, 'button[aria-label="Pause report"]');
      await page.keyboard.press('Space');
      await page.locator('tr[data-schedule="report"] td.paused .badge.paused').waitFor({ timeout: UI_TIMEOUT_MS });
      // Focus lands on the row's Resume button, still visibly.
      await page.getByRole('button', { name: 'Resume report', exact: true }).waitFor();
      expect(await focusOf(page)).toEqual({ matches: 'button[aria-label="Resume report"]', visible: true });

      const recurring = await jobs.listRecurring();
      expect(recurring.map((r) => [r.scheduleId, r.paused]).sort()).toEqual([
        ['digest', false],
        ['report', true],
      ]);
      expect(pageErrors).toEqual([]);
    }, 60_000);
  },
);

function base(app: INestApplication): string {
  const address = app.getHttpServer().address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

/** What has focus: whether it matches `selector` (given by tabTo) and whether its focus ring shows. */
async function focusOf(page: Page, selector = 'button[aria-label="Resume report"]') {
  return (await page.evaluate(`(() => {
    const el = document.activeElement;
    const style = el ? getComputedStyle(el) : null;
    return {
      matches: el && el.matches(${JSON.stringify(selector)}) ? ${JSON.stringify(selector)} : el ? el.outerHTML.slice(0, 80) : null,
      visible: !!style && el.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    };
  })()`)) as { matches: string | null; visible: boolean };
}

/**
 * Presses Tab until `selector` has focus (at most 60 presses), checking at every stop that the focused element
 * shows a focus ring.
 */
async function tabTo(page: Page, selector: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const focus = await focusOf(page, selector);
    if (focus.matches === selector) {
      expect({ selector, visible: focus.visible }).toEqual({ selector, visible: true });
      return;
    }
    if (focus.matches !== null && !/^<(body|main)/.test(focus.matches))
      expect({ at: focus.matches, visible: focus.visible }).toEqual({ at: focus.matches, visible: true });
    await page.keyboard.press('Tab');
  }
  throw new Error(`60 Tab presses did not reach ${selector}`);
}
