/**
 * 1 + 2. No-op throughput, pre-filled: the framework's worker against a raw BullMQ `Worker` and a `@nestjs/bullmq`
 * `WorkerHost` on the same pre-filled runs (optionally with the job-level lock). Attribution rows: both sides drain
 * runs the bench made with `addBulk`, so this times the worker alone, not what `enqueue` puts in Redis.
 */
import { BenchContext, BenchOutput, drain, Side, sideBySide } from './drivers';
import { median, round } from './support';

export async function throughput(ctx: BenchContext, lock: boolean): Promise<BenchOutput> {
  const out: BenchOutput = { figures: {}, rows: [], details: {} };
  const name = lock ? 'throughput-lock' : 'throughput';
  // NOTE: pre-filled runs time the worker alone: attribution for the end-to-end rows (throughput-e2e), which carry
  // the throughput goals. The lock's rows keep theirs: the lock is the only difference between its two sides.
  const goal = lock ? 0.8 : undefined;
  const label = lock ? '2. throughput, lock on, pre-filled' : '1. throughput, pre-filled (attribution)';
  const others: Side[] = lock ? ['raw'] : ['raw', 'nestjs'];
  const top = Math.max(...ctx.sizes.concurrencies);
  for (const concurrency of ctx.sizes.concurrencies) {
    const jobs = ctx.sizes.throughputJobs;
    // NOTE: one unmeasured drain per side at this concurrency and size first, so the measured pairs see each side's
    // steady state (a long-running worker's), not the JIT warming up the side with more code: short drains right after
    // a short warm-up measure the warm-up (bench/HISTORY.md).
    for (const side of ['framework', ...others] as Side[]) await drain(ctx, side, concurrency, jobs, lock);
    const cpu: Record<Side, number[]> = { framework: [], raw: [], nestjs: [] };
    const redisCpu: Record<Side, number[]> = { framework: [], raw: [], nestjs: [] };
    const commandsPerRun: Partial<Record<Side, Record<string, number>>> = {};
    // NOTE: at the graded concurrency without the lock, a third drain per repetition (in the same window) runs the
    // transport alone, to split the framework's extra CPU per run between the adapter and the pipeline.
    const attribute = concurrency === top && !lock;
    const transportCpu: number[] = [];
    const afterPair = attribute
      ? async () => {
          transportCpu.push((await drain(ctx, 'transport', concurrency, jobs, false)).cpuUsPerRun);
        }
      : undefined;
    const result = await sideBySide(
      ctx.sizes.reps,
      async (side) => {
        const {
          rate,
          cpuUsPerRun,
          redisCpuUsPerRun,
          commandsPerRun: perRun,
        } = await drain(ctx, side, concurrency, jobs, lock);
        cpu[side].push(cpuUsPerRun);
        redisCpu[side].push(redisCpuUsPerRun);
        commandsPerRun[side] = perRun;
        return rate;
      },
      afterPair,
      others,
    );
    const cpuUs = {
      framework: round(median(cpu.framework), 1),
      raw: round(median(cpu.raw), 1),
      nestjs: round(median(cpu.nestjs), 1),
    };
    const redisUs = {
      framework: round(median(redisCpu.framework), 1),
      raw: round(median(redisCpu.raw), 1),
      nestjs: round(median(redisCpu.nestjs), 1),
    };
    ctx.log(
      `${name} c=${concurrency}: framework ${result.framework.runs.join('/')} raw ${result.raw.runs.join('/')} ratio ${result.ratio.runs.join('/')}` +
        `; CPU µs/run node ${cpuUs.framework} vs ${cpuUs.raw}, redis ${redisUs.framework} vs ${redisUs.raw}`,
    );
    out.details[`c${concurrency}`] = {
      jobs,
      ...result,
      nodeCpuUsPerRun: cpuUs,
      redisCpuUsPerRun: redisUs,
      lastRunCommandsPerRun: commandsPerRun,
    };
    out.figures[`c${concurrency}.cpuUs.framework`] = cpuUs.framework;
    out.figures[`c${concurrency}.cpuUs.raw`] = cpuUs.raw;
    out.figures[`c${concurrency}.redisCpuUs.framework`] = redisUs.framework;
    out.figures[`c${concurrency}.redisCpuUs.raw`] = redisUs.raw;
    out.figures[`c${concurrency}.framework`] = result.framework.median;
    out.figures[`c${concurrency}.raw`] = result.raw.median;
    out.figures[`c${concurrency}.ratio`] = result.ratio.median;
    out.rows.push({
      benchmark: label,
      figure: `concurrency ${concurrency}: framework / raw runs/s`,
      value:
        `${Math.round(result.framework.median)} / ${Math.round(result.raw.median)} = ${result.ratio.median.toFixed(2)}×` +
        ` (CPU µs/run node ${Math.round(cpuUs.framework)}/${Math.round(cpuUs.raw)}, redis ${Math.round(redisUs.framework)}/${Math.round(redisUs.raw)})`,
      ...(goal === undefined ? {} : { goal: `≥ ${goal}× raw`, met: result.ratio.median >= goal }),
    });
    if (result.nestjs && result.ratioNestjs) {
      ctx.log(
        `${name} c=${concurrency}: @nestjs/bullmq ${result.nestjs.runs.join('/')} ratio ${result.ratioNestjs.runs.join('/')}; CPU µs/run node ${cpuUs.nestjs}`,
      );
      out.figures[`c${concurrency}.nestjs`] = result.nestjs.median;
      out.figures[`c${concurrency}.ratioNestjs`] = result.ratioNestjs.median;
      out.figures[`c${concurrency}.cpuUs.nestjs`] = cpuUs.nestjs;
      out.rows.push({
        benchmark: label,
        figure: `concurrency ${concurrency}: framework / @nestjs/bullmq WorkerHost runs/s`,
        value:
          `${Math.round(result.framework.median)} / ${Math.round(result.nestjs.median)} = ${result.ratioNestjs.median.toFixed(2)}×` +
          ` (CPU µs/run node ${Math.round(cpuUs.framework)}/${Math.round(cpuUs.nestjs)}, redis ${Math.round(redisUs.framework)}/${Math.round(redisUs.nestjs)})`,
      });
    }
    if (attribute) {
      const transportUs = round(median(transportCpu), 1);
      ctx.log(
        `${name} c=${concurrency}: node CPU µs/run of the transport alone (no pipeline) ${transportCpu.map((v) => Math.round(v)).join('/')}`,
      );
      out.figures[`c${concurrency}.cpuUs.transportOnly`] = transportUs;
      out.details[`c${concurrency}.transportOnly`] = {
        nodeCpuUsPerRun: { median: transportUs, runs: transportCpu.map((v) => round(v, 1)) },
      };
      out.rows.push({
        benchmark: label,
        figure: `concurrency ${concurrency}: node CPU µs/run raw / transport, no pipeline / framework`,
        value: `${Math.round(cpuUs.raw)} / ${Math.round(transportUs)} / ${Math.round(cpuUs.framework)}`,
      });
    }
  }
  return out;
}
