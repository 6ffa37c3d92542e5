import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { activeSchedules, JobsMode } from '../../apps/sample-app/src/notification.schedules';
import { killChild } from '../support/child-process';

/** The phases the demo must tell, in the design notes' order, and the registrations each one runs. */
const STORY: Array<{ heading: string; mode: JobsMode; disabled: string[] }> = [
  { heading: '1. legacy', mode: 'legacy', disabled: [] },
  { heading: '2. additive', mode: 'additive', disabled: [] },
  { heading: '3. exclusive', mode: 'pipeline', disabled: [] },
  { heading: '4. rollback of one job', mode: 'pipeline', disabled: ['campaign-scheduler-pipeline'] },
  { heading: '5. forward again', mode: 'pipeline', disabled: [] },
];

describe('npm run demo', () => {
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child) await killChild(child);
  });

  it('tells the migration on its defaults (no Redis, no DATABASE_URL): every phase runs exactly its registrations, all complete, nothing is sent twice, exit 0', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of [
      'REDIS_URL',
      'DATABASE_URL',
      'DATABASE_SCHEMA',
      'JOBS_MODE',
      'JOBS_DISABLED',
      'JOBS_PREFIX',
      'CLAIM_LEASE_MS',
    ])
      delete env[name];
    let output = '';
    child = spawn('npm', ['run', '--silent', 'demo'], {
      cwd: join(__dirname, '..', '..'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child?.once('exit', (exitCode) => resolve(exitCode)));

    expect({ code, output }).toEqual({
      code: 0,
      output: expect.stringContaining('Every tick of every phase completed; 0 duplicate sends.'),
    });
    const phases: Array<{ heading: string; rows: string[][]; duplicates?: string }> = [];
    for (const line of output.split('\n')) {
      const heading = /^== (.+?) \(JOBS_MODE=/.exec(line);
      if (heading) phases.push({ heading: heading[1], rows: [] });
      else if (/^\| [a-z]/.test(line) && !line.startsWith('| job '))
        phases[phases.length - 1].rows.push(
          line
            .split('|')
            .slice(1, -1)
            .map((cell) => cell.trim()),
        );
      else if (line.startsWith('   duplicate sends so far: ')) phases[phases.length - 1].duplicates = line.trim();
    }
    expect(phases.map((phase) => phase.heading)).toEqual(STORY.map((phase) => phase.heading));
    for (const [i, phase] of phases.entries()) {
      const expected = activeSchedules(STORY[i].mode, STORY[i].disabled);
      const ran = phase.rows.map(([job, registration]) => `${registration} ${job}`).sort();
      expect({ phase: phase.heading, ran }).toEqual({
        phase: phase.heading,
        ran: [
          ...expected.legacy.map((s) => `legacy ${s.id}`),
          ...expected.pipeline.map((id) => `pipeline ${id}`),
        ].sort(),
      });
      expect({ phase: phase.heading, states: [...new Set(phase.rows.map((row) => row[2]))] }).toEqual({
        phase: phase.heading,
        states: ['completed'],
      });
      expect(phase.duplicates).toBe('duplicate sends so far: 0');
    }
    const effect = (phase: number, job: string) => phases[phase].rows.find((row) => row[0] === job)?.[3];
    // Before the migration, the legacy processor sends the seeded traffic: 13 due retries, one of which bounces.
    expect(effect(0, 'notification-retry-processor')).toBe('12 retries dispatched, 1 failed (rescheduled)');
    expect(effect(0, 'campaign-workflow-executor')).toBe('4 executions run, 21 messages sent');
    expect(effect(0, 'tenant-daily-digest')).toMatch(
      /^3 tenants in one run: acme \d+ sent, globex \d+ sent, initech \d+ sent$/,
    );
    // Side by side, the two campaign schedulers share the due campaigns out: 3 executions in all, not 6.
    const [legacyScheduled, pipelineScheduled] = ['campaign-scheduler', 'campaign-scheduler-pipeline'].map((job) =>
      Number(/^(\d+) pending execution/.exec(effect(1, job) ?? '')?.[1]),
    );
    expect(legacyScheduled + pipelineScheduled).toBe(3);
    expect(effect(4, 'tenant-daily-digest-pipeline')).toMatch(
      /^3 runs, one per tenant: acme \d+ sent, globex \d+ sent, initech \d+ sent$/,
    );
  }, 120_000);
});
