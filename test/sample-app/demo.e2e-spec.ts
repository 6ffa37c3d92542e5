import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { PIPELINE_SCHEDULES } from '../../apps/sample-app/src/notification.schedules';
import { killChild } from '../support/child-process';

describe('npm run demo', () => {
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child) await killChild(child);
  });

  it('runs on its defaults with no Redis and no DATABASE_URL, shows all six jobs completed, and exits 0', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['REDIS_URL', 'DATABASE_URL', 'DATABASE_SCHEMA', 'JOBS_MODE', 'JOBS_PREFIX']) delete env[name];
    let output = '';
    child = spawn('npm', ['run', '--silent', 'demo'], { cwd: join(__dirname, '..', '..'), env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child?.once('exit', (exitCode) => resolve(exitCode)));

    expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('All six jobs completed.') });
    const rows = output
      .split('\n')
      .filter((line) => /^\| [a-z]/.test(line))
      .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
    expect(rows[0]).toEqual(['job id', 'cron', 'state', 'duration', 'effect']);
    expect(rows.slice(1).map(([id, cron, state]) => ({ id, cron, state }))).toEqual(PIPELINE_SCHEDULES.map(({ id, cron }) => ({ id, cron, state: 'completed' })));
    const effect = (id: string) => rows.find((row) => row[0] === id)?.[4];
    expect(effect('notification-retry-processor-pipeline')).toMatch(/^12 retries dispatched, 1 failed \(rescheduled\), 0 duplicate deliveries$/);
    expect(effect('campaign-workflow-executor-pipeline')).toMatch(/ 21 messages sent, 0 duplicate deliveries$/);
  }, 90_000);
});
