import { ChildProcess } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Browser } from 'playwright-core';
import { freePort } from '../support/redis-server';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../support/redis';
import { NOTIFICATIONS_QUEUE, PIPELINE_SCHEDULES } from '../../apps/sample-app/src/notification.schedules';
import { ARTIFACTS, describeWithChromium, launchChromium, spawnSampleApp } from './support/chromium';

const TOKEN = 'browser-test-token';

describeWithChromium('sample app bull-board in Chromium', () => {
  let prefix: string;
  let app: ChildProcess | undefined;
  let browser: Browser | undefined;

  afterEach(async () => {
    await browser?.close();
    if (app && app.exitCode === null) {
      const exited = new Promise((resolve) => app?.once('exit', resolve));
      app.kill('SIGTERM');
      await exited;
    }
    await deletePrefix(prefix);
  });

  it('logs in with the bearer token, shows the six migrated jobs (and every other recurring job) in Schedulers and their queue, and saves screenshots', async () => {
    prefix = randomPrefix('browser');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // NOTE: no DATABASE_URL: the sample app's embedded PGlite; JOBS_MODE defaults to pipeline.
    const sample = spawnSampleApp({
      PORT: String(port),
      OPS_TOKEN: TOKEN,
      REDIS_URL: testRedisUrl(),
      JOBS_PREFIX: prefix,
      DATABASE_URL: '',
      JOBS_MODE: '',
    });
    app = sample.child;
    const auth = { Authorization: `Bearer ${TOKEN}` };

    const recurring = (await waitFor(
      'the sample app to answer GET /jobs/recurring',
      async () => {
        if (app?.exitCode !== null) throw new Error(`sample app exited: ${sample.output()}`);
        const res = await fetch(`${base}/jobs/recurring`, { headers: auth }).catch(() => null);
        return res?.ok ? ((await res.json()) as Array<{ jobId: string; queue: string }>) : null;
      },
      45_000,
      200,
    )) as Array<{ jobId: string; queue: string }>;
    expect(
      recurring
        .filter((r) => r.queue === NOTIFICATIONS_QUEUE)
        .map((r) => r.jobId)
        .sort(),
    ).toEqual(PIPELINE_SCHEDULES.map((s) => s.id).sort());
    expect((await fetch(`${base}/admin/queues`)).status).toBe(401);

    browser = await launchChromium();
    const context = await browser.newContext({ extraHTTPHeaders: auth, viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    // NOTE: the token must not leave for third-party hosts (bull-board links a web font): only the app is reachable.
    await page.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.goto(`${base}/admin/queues/job-schedulers`, { waitUntil: 'domcontentloaded' });
    for (const { jobId } of recurring) {
      await page.getByText(jobId, { exact: true }).first().waitFor({ state: 'visible', timeout: 20_000 });
    }
    const schedulers = join(ARTIFACTS, 'bull-board-schedulers.png');
    await page.screenshot({ path: schedulers, fullPage: true });
    expect(statSync(schedulers).size).toBeGreaterThan(10_000);

    const queue = NOTIFICATIONS_QUEUE;
    await page.goto(`${base}/admin/queues/queue/${encodeURIComponent(queue)}?status=delayed`, {
      waitUntil: 'domcontentloaded',
    });
    for (const { jobId } of recurring.filter((r) => r.queue === queue)) {
      await page.getByText(jobId, { exact: false }).first().waitFor({ state: 'visible', timeout: 20_000 });
    }
    await page.screenshot({ path: join(ARTIFACTS, 'bull-board-queue.png'), fullPage: true });
  }, 90_000);
});
