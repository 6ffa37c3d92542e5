import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium } from 'playwright-core';
import { freePort } from '../support/redis-server';
import { deletePrefix, randomPrefix, testRedisUrl, waitFor } from '../support/redis';
import { NOTIFICATIONS_QUEUE, PIPELINE_SCHEDULES } from '../../apps/sample-app/src/notification.schedules';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'browser-test-token';
const ARTIFACTS = join(__dirname, '..', 'artifacts');

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.log(`SKIPPED browser test: ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`);

(haveChromium ? describe : describe.skip)('sample app bull-board in Chromium', () => {
  let prefix: string;
  let app: ChildProcess | undefined;
  let browser: Browser | undefined;
  let output = '';

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
    app = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/sample-app/src/main.ts'], {
      cwd: join(__dirname, '..', '..'),
      // NOTE: no DATABASE_URL: the sample app's embedded PGlite; JOBS_MODE defaults to pipeline.
      env: { ...process.env, PORT: String(port), OPS_TOKEN: TOKEN, REDIS_URL: testRedisUrl(), JOBS_PREFIX: prefix, DATABASE_URL: '', JOBS_MODE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    app.stdout?.on('data', (chunk) => (output += chunk));
    app.stderr?.on('data', (chunk) => (output += chunk));
    const auth = { Authorization: `Bearer ${TOKEN}` };

    const recurring = (await waitFor(
      'the sample app to answer GET /jobs/recurring',
      async () => {
        if (app?.exitCode !== null) throw new Error(`sample app exited: ${output}`);
        const res = await fetch(`${base}/jobs/recurring`, { headers: auth }).catch(() => null);
        return res?.ok ? ((await res.json()) as Array<{ jobId: string; queue: string }>) : null;
      },
      45_000,
      200,
    )) as Array<{ jobId: string; queue: string }>;
    expect(recurring.filter((r) => r.queue === NOTIFICATIONS_QUEUE).map((r) => r.jobId).sort()).toEqual(PIPELINE_SCHEDULES.map((s) => s.id).sort());
    expect((await fetch(`${base}/admin/queues`)).status).toBe(401);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
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
    await page.goto(`${base}/admin/queues/queue/${encodeURIComponent(queue)}?status=delayed`, { waitUntil: 'domcontentloaded' });
    for (const { jobId } of recurring.filter((r) => r.queue === queue)) {
      await page.getByText(jobId, { exact: false }).first().waitFor({ state: 'visible', timeout: 20_000 });
    }
    await page.screenshot({ path: join(ARTIFACTS, 'bull-board-queue.png'), fullPage: true });
  }, 90_000);
});
