import { INestApplication } from '@nestjs/common';
import { Browser } from 'playwright-core';
import { OperationsTokenGuard } from 'nestjs-background-jobs';
import { BEAT_TTL_MS } from 'nestjs-background-jobs/adapters/bullmq/bullmq-instances';
import type { InstanceConfig } from '../reliability/fixtures/instance';
import { AppInstance, removeCompiledFixture } from '../reliability/support/instance';
import { defineJob, startHttpJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../support/redis';
import { describeWithChromium, launchChromium } from './support/chromium';
import { accessible, shoot, signIn, UI_TIMEOUT_MS } from './support/dashboard';

const TOKEN = 'servers-browser-token';
/** How often the servers page reloads the list (app.js). */
const SERVERS_REFRESH_MS = 2_000;
/**
 * A SIGKILLed instance leaves the list when its heartbeat key expires (BEAT_TTL_MS after its last beat); the page
 * shows that at its next refresh. Margin: 10 s for a loaded machine (a late refresh, a slow Redis expiry).
 */
const GONE_DEADLINE_MS = BEAT_TTL_MS + SERVERS_REFRESH_MS + 10_000;
/** Two instances booting as child processes (transpiled library, ~1 to 3 s each; more on a loaded machine). */
const BOOT_MS = 45_000;

describeWithChromium('dashboard servers page in Chromium, with instances in their own processes', () => {
  let prefix: string;
  const apps: INestApplication[] = [];
  let browser: Browser | undefined;

  afterEach(async () => {
    await browser?.close();
    await AppInstance.killAll();
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });
  afterAll(() => removeCompiledFixture());

  it('shows two live instances; after one is SIGKILLed it is gone within the heartbeat expiry', async () => {
    prefix = randomPrefix('dsrv');
    // The dashboard's own app runs no worker: only the two child processes are instances.
    const Report = defineJob('ReportJob', { id: 'report', queue: 'reports' });
    const app = await startHttpJobsApp(apps, prefix, [Report], {
      operations: { guard: new OperationsTokenGuard({ token: TOKEN }), ui: true },
      worker: false,
    });
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    const instance = (name: string, concurrency: number): AppInstance =>
      AppInstance.spawn({
        name,
        redisUrl: testRedisUrl(),
        prefix,
        // NOTE: the report job never runs here, so the fixture's PostgreSQL pool never connects.
        pgUrl: 'postgres://unused@127.0.0.1:1/unused',
        schema: 'unused',
        jobs: [{ options: { id: 'report', queue: 'reports' }, kind: 'effect' }],
        worker: { concurrency },
      } satisfies InstanceConfig);
    const keeper = instance('keeper', 3);
    const victim = instance('victim', 7);
    await Promise.race([
      Promise.all([keeper.ready, victim.ready]),
      new Promise((_, reject) => setTimeout(() => reject(new Error('instances did not boot')), BOOT_MS).unref()),
    ]);

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await signIn(context, base, TOKEN, 'servers', 'Servers');
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.getByText('2 live instances').waitFor({ timeout: UI_TIMEOUT_MS });
    const rows = page.locator('tr[data-instance]');
    const pids = async () => (await rows.locator('th .mono').allTextContents()).sort();
    expect(await pids()).toEqual([`pid ${keeper.pid}`, `pid ${victim.pid}`].sort());
    expect((await rows.locator('td.num').allTextContents()).sort()).toEqual(['0 / 3', '0 / 7']);
    expect(await rows.first().locator('td[data-label="Queues"]').textContent()).toBe('reports');
    await accessible(page, 'servers');
    await shoot(page, 'servers');

    // SIGKILL: no shutdown hook runs, so the instance is not removed; its heartbeat key has to expire.
    victim.kill('SIGKILL');
    const killed = await victim.exited;
    expect(killed.signal).toBe('SIGKILL');
    await waitFor(
      'the killed instance gone from the page',
      async () => (await rows.count()) === 1 && (await pids())[0] === `pid ${keeper.pid}`,
      GONE_DEADLINE_MS,
      200,
    );
    const goneAfterMs = Date.now() - killed.at;
    await page.getByText('1 live instance', { exact: true }).waitFor();
    expect(await rows.locator('td.num').allTextContents()).toEqual(['0 / 3']);
    expect(keeper.running).toBe(true);
    console.log(`servers page: killed instance gone after ${goneAfterMs} ms (deadline ${GONE_DEADLINE_MS} ms)`);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
