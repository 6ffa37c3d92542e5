import { Counter, Metric, Registry } from 'prom-client';

/** Bucket upper bounds (seconds) of `background_jobs_run_duration_seconds`. */
export const RUN_DURATION_BUCKETS: readonly number[] = [0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 1800];

/** One (job, outcome) pair's durations: count, sum and the count per bucket (not cumulative; the last is +Inf only). */
interface DurationTally {
  readonly labels: { job: string; outcome: string };
  count: number;
  sum: number;
  readonly buckets: number[];
}

/** One job's finished attempts. */
interface JobTally {
  /** Attempts by outcome, or `${outcome}\n${failure kind}` for a failure. */
  readonly runs: Map<string, RunsTally>;
  /** Durations by outcome. */
  readonly durations: Map<string, DurationTally>;
  lockSkips?: { job: string; count: number };
}

interface RunsTally {
  readonly job: string;
  readonly outcome: string;
  readonly failureKind: string;
  count: number;
}

/**
 * The per-run metrics (`background_jobs_runs_total`, `background_jobs_run_duration_seconds`,
 * `background_jobs_lock_skips_total`) counted in plain maps and handed to prom-client at scrape time.
 *
 * NOTE: prom-client's `inc` and `observe` validate and hash the label object on every call (≈ 3 µs per run together,
 * the largest single item of the pipeline's cost at concurrency 1: ADR 0005); here a run is two
 * map lookups and three additions. The counters are prom-client `Counter`s filled in their `collect`; the histogram
 * is `TalliedHistogram`, whose exposition is prom-client's own (its tests compare the two on the same observations).
 */
export class RunTallies {
  private readonly jobs = new Map<string, JobTally>();
  /** Every tally in the order its label set was first seen: the order prom-client would list them in. */
  private readonly runLines: RunsTally[] = [];
  private readonly durationLines: DurationTally[] = [];
  private readonly lockSkipLines: { job: string; count: number }[] = [];

  constructor(registry: Registry) {
    // NOTE: the arrays, not `this`: prom-client calls `collect` with the metric as `this` (they are emptied in place).
    const { runLines, lockSkipLines } = this;
    const registers = [registry];
    new Counter({
      name: 'background_jobs_runs_total',
      help: 'Job attempts by job, outcome and failure kind.',
      labelNames: ['job', 'outcome', 'failure_kind'],
      registers,
      collect() {
        this.reset();
        for (const { job, outcome, failureKind, count } of runLines)
          this.inc({ job, outcome, failure_kind: failureKind }, count);
      },
    });
    const duration = new TalliedHistogram(
      'background_jobs_run_duration_seconds',
      'Duration of job attempts.',
      () => this.durationLines,
      () => this.reset(),
    );
    registry.registerMetric(duration as unknown as Metric);
    new Counter({
      name: 'background_jobs_lock_skips_total',
      help: 'Attempts skipped because another run held the job lock.',
      labelNames: ['job'],
      registers,
      collect() {
        this.reset();
        for (const { job, count } of lockSkipLines) this.inc({ job }, count);
      },
    });
  }

  /** One finished attempt. */
  record(job: string, outcome: string, failureKind: string, seconds: number, lockSkip: boolean): void {
    let tally = this.jobs.get(job);
    if (!tally) {
      tally = { runs: new Map(), durations: new Map() };
      this.jobs.set(job, tally);
    }
    const runKey = failureKind === 'none' ? outcome : `${outcome}\n${failureKind}`;
    let runs = tally.runs.get(runKey);
    if (!runs) {
      runs = { job, outcome, failureKind, count: 0 };
      tally.runs.set(runKey, runs);
      this.runLines.push(runs);
    }
    runs.count += 1;
    let duration = tally.durations.get(outcome);
    if (!duration) {
      duration = {
        labels: { job, outcome },
        count: 0,
        sum: 0,
        buckets: new Array<number>(RUN_DURATION_BUCKETS.length + 1).fill(0),
      };
      tally.durations.set(outcome, duration);
      this.durationLines.push(duration);
    }
    duration.count += 1;
    duration.sum += seconds;
    duration.buckets[bucketOf(seconds)] += 1;
    if (lockSkip) {
      if (!tally.lockSkips) {
        tally.lockSkips = { job, count: 0 };
        this.lockSkipLines.push(tally.lockSkips);
      }
      tally.lockSkips.count += 1;
    }
  }

  /** Forgets every tally (`Registry.resetMetrics()`). */
  private reset(): void {
    this.jobs.clear();
    this.runLines.length = 0;
    this.durationLines.length = 0;
    this.lockSkipLines.length = 0;
  }
}

/** Index of the first bound `seconds` fits under (prom-client's rule: value ≤ bound), or the +Inf slot. */
function bucketOf(seconds: number): number {
  for (let i = 0; i < RUN_DURATION_BUCKETS.length; i++) if (seconds <= RUN_DURATION_BUCKETS[i]) return i;
  return RUN_DURATION_BUCKETS.length;
}

/** A value line of a prom-client metric: what `Registry` formats. */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string | number>;
  metricName: string;
  exemplar?: null;
}

/**
 * A histogram of `RUN_DURATION_BUCKETS` read from tallies at scrape time, in the shape prom-client's `Registry` formats
 * (`getForPromString` for the text exposition, `get` for JSON and `Registry.merge`): the same lines, labels and order
 * as a prom-client `Histogram` given the same observations.
 */
class TalliedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => DurationTally[],
    private readonly onReset: () => void,
  ) {}

  getForPromString(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const bucketName = `${this.name}_bucket`;
    const values: MetricValue[] = [];
    for (const { labels, count, sum, buckets } of this.read()) {
      let cumulative = 0;
      RUN_DURATION_BUCKETS.forEach((le, i) => {
        cumulative += buckets[i];
        values.push({
          labels: { le },
          sharedLabels: labels,
          value: cumulative,
          metricName: bucketName,
          exemplar: null,
        });
      });
      values.push({
        labels: { le: '+Inf' },
        sharedLabels: labels,
        value: count,
        metricName: bucketName,
        exemplar: null,
      });
      values.push({ labels: {}, sharedLabels: labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: labels, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const data = this.getForPromString();
    data.values = data.values.map(({ labels, sharedLabels, ...line }) => ({
      ...line,
      labels: { ...labels, ...sharedLabels },
    }));
    return data;
  }

  /** `Registry.resetMetrics()` calls it: every tally starts again (the counters read the same tallies). */
  reset(): void {
    this.onReset();
  }
}
