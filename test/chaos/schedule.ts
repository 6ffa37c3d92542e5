import { createHash } from 'node:crypto';
import { between, pick, prng } from './prng';

export type Topology = 'standalone' | 'sentinel' | 'cluster';

/** Which app process a fault hits: a worker by index, or the producer (network faults only). */
export type Target = { worker: number } | 'producer';

export type Fault =
  | { kind: 'worker-sigkill' | 'worker-sigterm'; worker: number; downMs: number }
  | { kind: 'net-latency'; target: Target; latencyMs: number; forMs: number }
  | { kind: 'net-stall'; target: Target; forMs: number }
  | { kind: 'net-drop'; target: Target }
  | { kind: 'redis-restart-empty' | 'redis-restart-aof'; downMs: number }
  | { kind: 'sentinel-failover' }
  | { kind: 'cluster-failover' };

export interface PlannedFault {
  /** Offset from the start of the fault phase. */
  atMs: number;
  fault: Fault;
}

export const WORKERS = 3;

/**
 * The fault schedule of a run: a pure function of the seed, the length and the topology, so a printed seed replays
 * the same timeline. Faults come every 3–10 s from 5 s in until 10 s before the end (the tail lets the last one
 * heal before the drain).
 */
export function planFaults(seed: number, minutes: number, topology: Topology): PlannedFault[] {
  const random = prng(seed);
  const endMs = minutes * 60_000 - 10_000;
  const redisFaults: Array<[Fault['kind'], number]> =
    topology === 'standalone'
      ? [
          ['redis-restart-empty', 1],
          ['redis-restart-aof', 2],
        ]
      : topology === 'sentinel'
        ? [['sentinel-failover', 2]]
        : [['cluster-failover', 2]];
  const plan: PlannedFault[] = [];
  for (let at = 5_000; at < endMs; at += between(random, 3_000, 10_000)) {
    const kind = pick<Fault['kind']>(random, [
      ['worker-sigkill', 4],
      ['worker-sigterm', 2],
      ['net-latency', 3],
      ['net-stall', 2],
      ['net-drop', 2],
      ...redisFaults,
    ]);
    const target = (): Target => (random() < 0.25 ? 'producer' : { worker: between(random, 0, WORKERS - 1) });
    let fault: Fault;
    switch (kind) {
      case 'worker-sigkill':
      case 'worker-sigterm':
        fault = { kind, worker: between(random, 0, WORKERS - 1), downMs: between(random, 500, 4_000) };
        break;
      case 'net-latency':
        fault = { kind, target: target(), latencyMs: between(random, 20, 400), forMs: between(random, 2_000, 8_000) };
        break;
      case 'net-stall':
        fault = { kind, target: target(), forMs: between(random, 500, 6_000) };
        break;
      case 'net-drop':
        fault = { kind, target: target() };
        break;
      case 'redis-restart-empty':
      case 'redis-restart-aof':
        fault = { kind, downMs: between(random, 200, 3_000) };
        break;
      default:
        fault = { kind } as Fault;
    }
    plan.push({ atMs: at, fault });
  }
  return plan;
}

/** One line per fault, the same for the same seed. */
export function describeFault(fault: Fault): string {
  const who = (target: Target) => (target === 'producer' ? 'producer' : `worker-${target.worker}`);
  switch (fault.kind) {
    case 'worker-sigkill':
    case 'worker-sigterm':
      return `${fault.kind} worker-${fault.worker}, restarted after ${fault.downMs} ms`;
    case 'net-latency':
      return `${fault.kind} ${who(fault.target)} +${fault.latencyMs} ms for ${fault.forMs} ms`;
    case 'net-stall':
      return `${fault.kind} ${who(fault.target)} for ${fault.forMs} ms`;
    case 'net-drop':
      return `${fault.kind} ${who(fault.target)} (every connection reset)`;
    case 'redis-restart-empty':
    case 'redis-restart-aof':
      return `${fault.kind} (down ${fault.downMs} ms)`;
    default:
      return fault.kind;
  }
}

/** One line of the timeline per planned fault: its planned offset and what it does (no wall-clock figure). */
export function faultLine({ atMs, fault }: PlannedFault): string {
  return `@${(atMs / 1000).toFixed(1).padStart(6)} s  ${describeFault(fault)}`;
}

/**
 * A digest of a fault timeline (sha256 of its lines, first 16 hex digits): printed for the plan and again for the
 * faults that struck, so two runs with one seed are compared by one line and a run that struck less than its plan
 * shows it.
 */
export function timelineDigest(faults: PlannedFault[]): string {
  const hash = createHash('sha256');
  for (const planned of faults) hash.update(`${faultLine(planned)}\n`);
  return hash.digest('hex').slice(0, 16);
}

/** Faults by kind, in a fixed order (the order kinds first appear in `faults`). */
export function countByKind(faults: PlannedFault[]): string {
  const counts = new Map<string, number>();
  for (const { fault } of faults) counts.set(fault.kind, (counts.get(fault.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${kind} ${n}`).join(', ') || 'none';
}
