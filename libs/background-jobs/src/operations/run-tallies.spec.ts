import { Counter, Histogram, Registry } from 'prom-client';
import { RUN_DURATION_BUCKETS, RunTallies } from './run-tallies';

/** The same attempts, recorded the way the metrics used to (prom-client's inc/observe per run). */
function promClientRegistry(attempts: Attempt[]): Registry {
  const registry = new Registry();
  const registers = [registry];
  const runs = new Counter({
    name: 'background_jobs_runs_total',
    help: 'Job attempts by job, outcome and failure kind.',
    labelNames: ['job', 'outcome', 'failure_kind'],
    registers,
  });
  const duration = new Histogram({
    name: 'background_jobs_run_duration_seconds',
    help: 'Duration of job attempts.',
    labelNames: ['job', 'outcome'],
    buckets: [...RUN_DURATION_BUCKETS],
    registers,
  });
  const lockSkips = new Counter({
    name: 'background_jobs_lock_skips_total',
    help: 'Attempts skipped because another run held the job lock.',
    labelNames: ['job'],
    registers,
  });
  for (const [job, outcome, failureKind, seconds, lockSkip] of attempts) {
    runs.inc({ job, outcome, failure_kind: failureKind });
    duration.observe({ job, outcome }, seconds);
    if (lockSkip) lockSkips.inc({ job });
  }
  return registry;
}

type Attempt = [job: string, outcome: string, failureKind: string, seconds: number, lockSkip: boolean];

function talliedRegistry(attempts: Attempt[]): { registry: Registry; tallies: RunTallies } {
  const registry = new Registry();
  const tallies = new RunTallies(registry);
  for (const attempt of attempts) tallies.record(...attempt);
  return { registry, tallies };
}

// Every bucket edge (a value equal to a bound belongs to it), both sides of it, the +Inf slot, two jobs interleaved,
// failures of two kinds, lock skips.
const attempts: Attempt[] = [
  ['reports', 'completed', 'none', 0.001, false],
  ['mailer', 'completed', 'none', 0.005, false],
  ['reports', 'failed', 'transient', 0.0250001, false],
  ['reports', 'skipped', 'none', 0.0001, true],
  ['mailer', 'failed', 'permanent', 4000, false],
  ...RUN_DURATION_BUCKETS.flatMap((bound): Attempt[] => [
    ['reports', 'completed', 'none', bound, false],
    ['reports', 'completed', 'none', bound * 1.0001, false],
  ]),
  ['reports', 'failed', 'transient', 2, false],
  ['mailer', 'skipped', 'none', 0.2, true],
  ['reports', 'skipped', 'none', 0.3, true],
];

describe('RunTallies', () => {
  it('exposes the same text as prom-client fed the same attempts one by one', async () => {
    const expected = await promClientRegistry(attempts).metrics();
    const { registry } = talliedRegistry(attempts);
    expect(await registry.metrics()).toBe(expected);
    expect(expected).toContain(
      'background_jobs_run_duration_seconds_bucket{le="0.005",job="reports",outcome="completed"} 2',
    );
    expect(expected).toContain('background_jobs_lock_skips_total{job="reports"} 2');
  });

  it('gives the same JSON, also through Registry.merge and in the OpenMetrics format', async () => {
    const reference = promClientRegistry(attempts);
    const { registry } = talliedRegistry(attempts);
    expect(await registry.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
    expect(await Registry.merge([registry]).metrics()).toBe(await Registry.merge([reference]).metrics());
    reference.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as typeof reference.contentType);
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as typeof registry.contentType);
    expect(await registry.metrics()).toBe(await reference.metrics());
  });

  it('keeps counting after a scrape, and starts again after Registry.resetMetrics()', async () => {
    const { registry, tallies } = talliedRegistry(attempts.slice(0, 3));
    await registry.metrics();
    for (const attempt of attempts.slice(3)) tallies.record(...attempt);
    expect(await registry.metrics()).toBe(await promClientRegistry(attempts).metrics());
    registry.resetMetrics();
    tallies.record('mailer', 'completed', 'none', 0.01, false);
    expect(await registry.metrics()).toBe(
      await promClientRegistry([['mailer', 'completed', 'none', 0.01, false]]).metrics(),
    );
  });
});
