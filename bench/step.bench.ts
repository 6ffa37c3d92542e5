/**
 * The cost of one durable step (`ctx.step`) per run, on the users' path: the same no-op job with one
 * `ctx.step('s', () => n)` and without, each enqueued with `BackgroundJobs.enqueue` and drained by the module's worker
 * at c = 10, in alternating pairs. Per step = with − without: Node CPU µs per run (first run entered to last), Redis
 * commands per run (`INFO commandstats`, commands inside scripts included) and redis-server CPU µs per run.
 */
import { BenchContext, BenchOutput, enqueueThenDrain, PublicDrainResult, sideBySide } from './drivers';
import { median, round } from './support';

const STEP_JOB_ID = 'bench-step';
const CONCURRENCY = 10;

export async function step(ctx: BenchContext): Promise<BenchOutput> {
  const runs = ctx.sizes.stepRuns;
  const drainOf = (withStep: boolean) =>
    enqueueThenDrain(
      ctx,
      withStep ? 'step' : 'nostep',
      {
        options: { id: STEP_JOB_ID },
        body: withStep ? (jobCtx) => jobCtx.step('s', () => (jobCtx.data as { n: number }).n) : undefined,
      },
      runs,
      CONCURRENCY,
    );
  // NOTE: one unmeasured round per side first, at this size.
  await drainOf(true);
  await drainOf(false);
  const samples: Record<'step' | 'plain', PublicDrainResult[]> = { step: [], plain: [] };
  const result = await sideBySide(ctx.sizes.reps, async (side) => {
    const withStep = side === 'framework';
    const measured = await drainOf(withStep);
    samples[withStep ? 'step' : 'plain'].push(measured);
    return measured.rate;
  });
  const cost = (of: PublicDrainResult[]) => ({
    nodeCpuUs: round(median(of.map((s) => s.cpuUsPerRun)), 1),
    redisCpuUs: round(median(of.map((s) => s.redisCpuUsPerRun)), 1),
    commands: round(median(of.map((s) => s.commandsTotalPerRun)), 2),
    lastCommandsPerRun: of[of.length - 1].commandsPerRun,
  });
  const withStep = cost(samples.step);
  const plain = cost(samples.plain);
  const perStep = {
    nodeCpuUs: round(withStep.nodeCpuUs - plain.nodeCpuUs, 1),
    redisCpuUs: round(withStep.redisCpuUs - plain.redisCpuUs, 1),
    commands: round(withStep.commands - plain.commands, 2),
  };
  ctx.log(
    `step: with ${result.framework.runs.join('/')} without ${result.raw.runs.join('/')} ratio ${result.ratio.runs.join('/')}; ` +
      `per step ${perStep.nodeCpuUs} µs node CPU, ${perStep.commands} commands, ${perStep.redisCpuUs} µs redis CPU`,
  );
  const label = 'step';
  return {
    figures: {
      ratio: result.ratio.median,
      'perStep.nodeCpuUs': perStep.nodeCpuUs,
      'perStep.commands': perStep.commands,
      'perStep.redisCpuUs': perStep.redisCpuUs,
    },
    rows: [
      {
        benchmark: label,
        figure: `one ctx.step per run, c = ${CONCURRENCY}: node CPU µs per run, with / without (per step)`,
        value: `${Math.round(withStep.nodeCpuUs)} / ${Math.round(plain.nodeCpuUs)} (+${Math.round(perStep.nodeCpuUs)} µs)`,
      },
      {
        benchmark: label,
        figure: 'one ctx.step per run: Redis commands per run, with / without (per step; redis CPU µs per step)',
        value: `${withStep.commands} / ${plain.commands} (+${perStep.commands}; +${Math.round(perStep.redisCpuUs)} µs)`,
      },
      {
        benchmark: label,
        figure: 'one ctx.step per run: runs/s with / without',
        value: `${Math.round(result.framework.median)} / ${Math.round(result.raw.median)} = ${result.ratio.median.toFixed(2)}×`,
      },
    ],
    details: { runs, concurrency: CONCURRENCY, ...result, withStep, withoutStep: plain, perStep },
  };
}
