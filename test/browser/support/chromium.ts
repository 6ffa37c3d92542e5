import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium } from 'playwright-core';

/** Debian's Chromium; the browser suites are skipped, with one console line, when it is absent. */
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(__dirname, '..', '..', 'artifacts');

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.log(`SKIPPED browser test: ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`);

/** `describe` when Chromium is installed, `describe.skip` otherwise. */
export const describeWithChromium: jest.Describe = haveChromium ? describe : describe.skip;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** The sample app (apps/sample-app/src/main.ts) as a child process; `output()` is what it printed so far. */
export function spawnSampleApp(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/sample-app/src/main.ts'],
    {
      cwd: join(__dirname, '..', '..', '..'),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}
