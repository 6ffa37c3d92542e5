/**
 * `npm run chaos`: a randomized fault soak (docs/reliability.md). Env: CHAOS_MINUTES (default 10),
 * CHAOS_TOPOLOGY (standalone | sentinel | cluster), CHAOS_SEED (default random; printed, replays the same timeline).
 * Prints the plan, each fault as it strikes, the invariants one per line, and `invariants: N held, M violated`;
 * exits 1 on a violation (or a harness failure) with the seed and the timeline to replay it.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Pool } from 'pg';
import { testDatabaseUrl } from '../support/postgres';
import { AppInstance, removeCompiledFixture } from '../reliability/support/instance';
import { checkInvariants, RunFacts, Window } from './invariants';
import { FaultyProxy } from './proxy';
import {
  countByKind,
  describeFault,
  Fault,
  faultLine,
  planFaults,
  PlannedFault,
  Target,
  timelineDigest,
  Topology,
  WORKERS,
} from './schedule';
import { ChaosRedis } from './topology';
import { ChaosCommand, ChaosConfig, JOBS, LOOP_WATCH, TICK_EVERY_MS, WORKER_OPTIONS } from './workload';

const APP = resolve(__dirname, 'app.ts');
const DRAIN_MS = 120_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function options(): { minutes: number; topology: Topology; seed: number } {
  const minutes = Number(process.env.CHAOS_MINUTES ?? 10);
  const topology = (process.env.CHAOS_TOPOLOGY ?? 'standalone') as Topology;
  const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : randomBytes(4).readUInt32BE(0);
  if (!(minutes > 0))
    throw new Error(`CHAOS_MINUTES=${process.env.CHAOS_MINUTES} is not a positive number. Fix: e.g. CHAOS_MINUTES=2.`);
  if (!['standalone', 'sentinel', 'cluster'].includes(topology))
    throw new Error(`CHAOS_TOPOLOGY=${topology} is not known. Fix: standalone, sentinel or cluster.`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new Error(
      `CHAOS_SEED=${process.env.CHAOS_SEED} is not a 32-bit unsigned integer. Fix: a seed a run printed.`,
    );
  return { minutes, topology, seed };
}

/** One app process with the proxies it reaches Redis through. */
interface Member {
  name: string;
  role: 'producer' | 'worker';
  proxies: Map<number, FaultyProxy>;
  instance?: AppInstance;
  /** Spans while this worker was down or cut off from Redis. */
  impaired: Window[];
  /** Set while a fault's background task brings this worker back: a second kill then only stops the boot under way. */
  restarting?: boolean;
  /** The instance the harness itself stopped last (its exit is not a crash). */
  killed?: AppInstance;
}

class Soak {
  readonly redis: ChaosRedis;
  readonly pool = new Pool({ connectionString: testDatabaseUrl(), max: 2 });
  readonly schema = `chaos_${randomBytes(4).toString('hex')}`;
  readonly prefix = `chaos-${randomBytes(4).toString('hex')}`;
  readonly members: Member[] = [];
  readonly timeline: string[] = [];
  readonly dataLoss: number[] = [];
  /** Whether the ledger's schema is kept after the run (a violated run, to read what happened). */
  keepLedger = false;
  readonly redisDown: Window[] = [];
  readonly exits: RunFacts['exits'] = [];
  readonly slowLinks: RunFacts['slowLinks'] = [];
  readonly counts = new Map<string, number>();
  readonly crashes: string[] = [];
  /** The planned faults that struck, in order, and how late each struck after its planned offset (ms). */
  readonly struck: PlannedFault[] = [];
  readonly lateness: number[] = [];
  stopping = false;
  /** Sentinel: when the replica last held every write its master had (see `watchReplication`). */
  private replicaCaughtUpAt = Date.now();
  /** Set while a planned Sentinel failover runs (the watch leaves its change of master to it). */
  private plannedFailover = false;
  /** Failovers Sentinel made on its own and spans with two masters, as the watch saw them (each a data loss). */
  readonly unplanned: string[] = [];
  /** The spans of those (RunFacts.twoMasters). */
  readonly twoMasters: Window[] = [];
  private readonly pending: Promise<unknown>[] = [];
  private t0 = Date.now();

  constructor(
    readonly topology: Topology,
    readonly seed: number,
  ) {
    this.redis = new ChaosRedis(topology);
  }

  async setUp(): Promise<void> {
    await this.redis.start();
    const s = this.schema;
    await this.pool.query(`CREATE SCHEMA ${s}`);
    await this.pool.query(`CREATE TABLE ${s}.enqueued (execution_id text PRIMARY KEY, job_id text NOT NULL,
      tenant text, fail_attempts int NOT NULL, acked_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await this.pool
      .query(`CREATE TABLE ${s}.runs (id serial PRIMARY KEY, execution_id text NOT NULL, job_id text NOT NULL,
      attempt int NOT NULL, worker text NOT NULL, tenant text, scheduled_at timestamptz, fence bigint,
      started_at timestamptz NOT NULL DEFAULT clock_timestamp(), ended_at timestamptz, outcome text,
      began_at timestamptz NOT NULL, batch jsonb)`);
    await this.pool.query(`CREATE TABLE ${s}.batches (batch_id text PRIMARY KEY, children text[] NOT NULL,
      acked_at timestamptz NOT NULL)`);
    await this.pool.query(`CREATE TABLE ${s}.effects (execution_id text PRIMARY KEY, job_id text NOT NULL,
      worker text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await this.pool.query(`CREATE TABLE ${s}.fence (key text PRIMARY KEY, token bigint NOT NULL)`);
    await this.pool.query(`CREATE TABLE ${s}.step_calls (id serial PRIMARY KEY, execution_id text NOT NULL,
      step text NOT NULL, attempt int NOT NULL, worker text NOT NULL,
      started_at timestamptz NOT NULL DEFAULT clock_timestamp(), ended_at timestamptz)`);
    await this.pool.query(`CREATE TABLE ${s}.step_returns (execution_id text NOT NULL, step text NOT NULL,
      attempt int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await this.pool.query(`CREATE TABLE ${s}.sleeps (execution_id text PRIMARY KEY, reached_at timestamptz NOT NULL,
      woke_at timestamptz)`);
    await this.pool.query(`CREATE TABLE ${s}.loop_stalls (worker text NOT NULL, at timestamptz NOT NULL,
      late_ms int NOT NULL)`);
    await this.pool.query(`CREATE TABLE ${s}.finals (execution_id text PRIMARY KEY, job_id text NOT NULL,
      state text NOT NULL, kind text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    const names = ['producer', ...Array.from({ length: WORKERS }, (_, i) => `worker-${i}`)];
    for (const name of names) {
      const proxies = new Map<number, FaultyProxy>();
      for (const port of this.redis.dataPorts) proxies.set(port, await FaultyProxy.start(port));
      this.members.push({ name, role: name === 'producer' ? 'producer' : 'worker', proxies, impaired: [] });
    }
    // NOTE: workers first, so the producer's first runs find them; each boot is awaited (schedulers reconciled).
    for (const member of [...this.members.slice(1), this.members[0]]) await this.boot(member);
    this.t0 = Date.now();
  }

  private async boot(member: Member): Promise<void> {
    const config: ChaosConfig = {
      name: member.name,
      role: member.role,
      connection: this.redis.connection(member.proxies),
      prefix: this.prefix,
      pgUrl: testDatabaseUrl(),
      schema: this.schema,
      seed: this.seed,
      jobs: JOBS,
      worker: WORKER_OPTIONS,
      loopWatch: LOOP_WATCH,
    };
    const instance = AppInstance.spawn(config as never, APP);
    member.instance = instance;
    await instance.ready;
    // NOTE: an exit the harness did not cause (a crash of the app itself) is a violation, with its output.
    void instance.exited.then((exit) => {
      this.exits.push({ worker: member.name, at: exit.at });
      if (this.stopping || member.killed === instance) return;
      const first = instance.output.trim().split('\n').slice(0, 6).join(' | ').slice(0, 600);
      this.crashes.push(`${member.name} exited on its own (${exit.signal ?? `code ${exit.code}`}): ${first}`);
      this.note(`  ! ${member.name} exited on its own (${exit.signal ?? `code ${exit.code}`})`);
    });
  }

  /**
   * Starts a stopped member again as a process supervisor would: a boot that fails (Redis down or failing over at
   * that moment: the app refuses to boot without it) is tried again a second later.
   */
  private async restart(member: Member): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.boot(member);
      } catch (error) {
        const line = (member.instance?.stderr.trim().split('\n').pop() || (error as Error).message).slice(0, 160);
        if (attempt >= 30) throw new Error(`${member.name} did not boot in ${attempt} attempts: ${line}`);
        this.note(`  ${member.name} boot failed (${line}); starting it again in 1 s`);
        await sleep(1_000);
      }
    }
  }

  note(line: string): void {
    const entry = `+${((Date.now() - this.t0) / 1000).toFixed(1).padStart(6)} s  ${line}`;
    this.timeline.push(entry);
    console.log(`   ${entry}`);
  }

  private member(target: Target): Member {
    return target === 'producer' ? this.members[0] : this.members[1 + target.worker];
  }

  /** Applies one fault; what heals later (a restart, the end of a stall) runs in the background. */
  async strike(fault: Fault): Promise<void> {
    this.counts.set(fault.kind, (this.counts.get(fault.kind) ?? 0) + 1);
    this.note(describeFault(fault));
    switch (fault.kind) {
      case 'worker-sigkill':
      case 'worker-sigterm': {
        const member = this.member({ worker: fault.worker });
        const instance = member.instance;
        if (!instance?.running) {
          const last = instance?.output.trim().split('\n').slice(0, 6).join(' | ').slice(0, 600);
          return this.note(`  worker-${fault.worker} is already down: nothing to stop (its output ended: ${last})`);
        }
        const from = Date.now();
        member.killed = instance;
        instance.kill(fault.kind === 'worker-sigkill' ? 'SIGKILL' : 'SIGTERM');
        if (member.restarting) return this.note(`  worker-${fault.worker} was still booting: its restart goes on`);
        member.restarting = true;
        this.background(
          (async () => {
            const exit = await instance.exited;
            await sleep(fault.downMs);
            await this.restart(member).finally(() => (member.restarting = false));
            member.impaired.push({ from, to: Date.now(), why: fault.kind });
            this.note(
              `  worker-${fault.worker} back (exited ${exit.signal ?? `code ${exit.code}`} after ${exit.at - from} ms)`,
            );
          })(),
        );
        return;
      }
      case 'net-latency':
      case 'net-stall': {
        const member = this.member(fault.target);
        const from = Date.now();
        // NOTE: a chunk queued behind the fault is held at most its latency (or the stall) after the fault ends.
        const delayMs = fault.kind === 'net-stall' ? fault.forMs : fault.latencyMs;
        this.slowLinks.push({ worker: member.name, from, to: from + fault.forMs + delayMs, delayMs });
        for (const proxy of member.proxies.values())
          if (fault.kind === 'net-stall') proxy.stall(fault.forMs);
          else proxy.latencyMs = fault.latencyMs;
        this.background(
          sleep(fault.forMs).then(() => {
            for (const proxy of member.proxies.values()) proxy.latencyMs = 0;
            if (fault.kind === 'net-stall') member.impaired.push({ from, to: Date.now(), why: fault.kind });
          }),
        );
        return;
      }
      case 'net-drop': {
        const member = this.member(fault.target);
        for (const proxy of member.proxies.values()) proxy.drop();
        member.impaired.push({ from: Date.now(), to: Date.now() + 1_000, why: fault.kind });
        return;
      }
      default: {
        const from = Date.now();
        // NOTE: a loss is dated when the server exited (a write acknowledged up to then may be gone), not when the
        // fault began: a failover first asks a sentinel which server is master, and writes go on meanwhile.
        let killedAt = from;
        if (fault.kind === 'redis-restart-empty' || fault.kind === 'redis-restart-aof')
          killedAt = await this.redis.restartStandalone(fault.kind === 'redis-restart-empty', fault.downMs);
        else if (fault.kind === 'sentinel-failover') {
          const caughtUpAt = this.replicaCaughtUpAt;
          this.plannedFailover = true;
          killedAt = await this.redis.sentinelFailover().finally(() => (this.plannedFailover = false));
          this.note(
            `  the promoted replica held every write of its master up to ${killedAt - caughtUpAt} ms before the kill`,
          );
        } else await this.redis.clusterFailover();
        if (fault.kind === 'redis-restart-empty' || fault.kind === 'sentinel-failover') this.dataLoss.push(killedAt);
        this.redisDown.push({ from, to: Date.now(), why: fault.kind });
        this.note(`  ${fault.kind} done in ${Date.now() - from} ms`);
      }
    }
  }

  /**
   * Sentinel only, every 500 ms until the soak stops: what each data node says of itself (asked directly) and where
   * each process's connections go (its proxies). Notes, once each lasts 5 s and again when it clears: a replica that
   * has not caught up with its master, a process with connections on a node that is not a master. Keeps when the
   * replica last held everything its master held at the sample before (`replicaCaughtUpAt`).
   *
   * Sentinel also fails over on its own: with `down-after-milliseconds` 1 s, a master that a loaded host leaves
   * unscheduled that long (a fork for a full sync, say) is taken for dead and its replica promoted, while the old
   * master still takes writes from the clients it holds: two masters, until Sentinel reaches the old one and makes it
   * a replica, dropping what it took meanwhile (asynchronous replication; Redis documents it). Those writes are lost
   * as surely as in a planned failover, so each such span, and each change of master the harness did not cause, is
   * counted as one (`dataLoss`, `redisDown`) and printed; the invariants then judge it as they judge a planned one.
   */
  watchReplication(): void {
    const seen = new Map<string, { since: number; noted: boolean }>();
    let before = { at: Date.now(), masterPort: 0, masterOffset: 0 };
    let lastMaster: number | undefined;
    let twoMasters: { from: number; ports: string } | undefined;
    const lost = (from: number, at: number, why: string, line: string) => {
      this.redisDown.push({ from, to: at, why });
      this.twoMasters.push({ from, to: at, why });
      this.dataLoss.push(at);
      this.unplanned.push(line);
      this.note(`  ! watch: ${line}: counted as a data loss at +${((at - this.t0) / 1000).toFixed(1)} s`);
    };
    const sample = async () => {
      const at = Date.now();
      const views = await this.redis.replication();
      const masters = views.filter((v) => v.role === 'master');
      const found = new Map<string, string>();
      const master = masters.length === 1 ? masters[0] : undefined;
      if (masters.length > 1 && !twoMasters) {
        const ports = masters.map((m) => `:${m.port} at offset ${m.offset}`).join(', ');
        twoMasters = { from: before.at, ports };
        this.note(
          `  ! watch: two masters (${ports}); the sentinels name ${(await this.redis.sentinelsSay()).join(' ')}`,
        );
      } else if (master && twoMasters) {
        lost(twoMasters.from, at, 'two masters', `two masters (${twoMasters.ports}) for ${at - twoMasters.from} ms`);
        twoMasters = undefined;
      } else if (master && lastMaster !== undefined && master.port !== lastMaster && !this.plannedFailover)
        lost(
          before.at,
          at,
          'failover by Sentinel',
          `Sentinel failed over on its own, :${lastMaster} → :${master.port}`,
        );
      if (this.plannedFailover) lastMaster = undefined;
      else if (master) lastMaster = master.port;
      for (const replica of views.filter((v) => v.role === 'replica')) {
        if (master && replica.masterPort === master.port && before.masterPort === master.port)
          if (replica.offset >= before.masterOffset) this.replicaCaughtUpAt = before.at;
        if (master && at - this.replicaCaughtUpAt >= 5_000)
          found.set(
            `behind:${replica.port}`,
            `replica :${replica.port} (of :${replica.masterPort}, link ${replica.linkUp ? 'up' : 'down'}) ` +
              `${master.offset - replica.offset} bytes behind master :${master.port}`,
          );
      }
      for (const member of this.members)
        for (const [port, proxy] of member.proxies) {
          const role = views.find((v) => v.port === port)?.role;
          if (proxy.open > 0 && role !== 'master')
            found.set(`${member.name}:${port}`, `${member.name} has ${proxy.open} connections on :${port} (${role})`);
        }
      for (const [key, line] of found) {
        const entry = seen.get(key) ?? { since: at, noted: false };
        seen.set(key, entry);
        if (!entry.noted && at - entry.since >= 5_000) {
          entry.noted = true;
          this.note(`  ! watch: ${line}, for ${at - entry.since} ms`);
        }
      }
      for (const key of [...seen.keys()].filter((k) => !found.has(k))) {
        const entry = seen.get(key) as { since: number; noted: boolean };
        seen.delete(key);
        if (entry.noted) this.note(`  watch: cleared after ${at - entry.since} ms (${key})`);
      }
      if (master) before = { at, masterPort: master.port, masterOffset: master.offset };
    };
    // NOTE: not among `pending` (which `heal` awaits): it runs until the tear-down.
    void (async () => {
      while (!this.stopping) {
        await sample().catch((error: Error) => this.note(`  ! watch: ${error.message.split('\n')[0]}`));
        await sleep(500);
      }
    })();
  }

  private background(work: Promise<unknown>): void {
    this.pending.push(work.catch((error: Error) => this.note(`  ! ${error.message.split('\n')[0]}`)));
  }

  /** Heals every fault still open and waits for every worker to be back. */
  async heal(): Promise<void> {
    await Promise.all(this.pending);
    for (const member of this.members) for (const proxy of member.proxies.values()) proxy.heal();
    for (const member of this.members) if (!member.instance?.running) await this.restart(member);
  }

  /**
   * Spans when no worker could run: every worker impaired at once (down, cut off, or its event loop stopped for at
   * least half a tick period: on a host at load 20–28 a process goes unscheduled for seconds), or Redis down or
   * failing over.
   */
  workless(loopStalls: RunFacts['loopStalls']): Window[] {
    const workers = this.members
      .slice(1)
      .map((m) => [
        ...m.impaired,
        ...loopStalls
          .filter((s) => s.worker === m.name && s.lateMs + LOOP_WATCH.everyMs >= TICK_EVERY_MS / 2)
          .map((s) => ({ from: s.at - s.lateMs - LOOP_WATCH.everyMs, to: s.at, why: 'event loop stalled' })),
      ]);
    const spans: Window[] = [...this.redisDown];
    const edges = workers.flatMap((impaired) => impaired.flatMap((w) => [w.from, w.to])).sort((a, b) => a - b);
    for (let i = 0; i + 1 < edges.length; i++) {
      const at = (edges[i] + edges[i + 1]) / 2;
      if (workers.every((impaired) => impaired.some((w) => w.from <= at && at <= w.to)))
        spans.push({ from: edges[i], to: edges[i + 1], why: 'every worker down, cut off or stalled' });
    }
    return spans;
  }

  async send<T>(command: ChaosCommand): Promise<T> {
    return (this.members[0].instance as AppInstance).send(command as never) as Promise<T>;
  }

  async tearDown(): Promise<void> {
    this.stopping = true;
    await AppInstance.killAll();
    removeCompiledFixture();
    for (const member of this.members) for (const proxy of member.proxies.values()) await proxy.close();
    await this.redis.destroy();
    // NOTE: a violated run keeps its ledger to be read (PostgreSQL `test`), and says where.
    if (this.keepLedger)
      console.log(`== ledger kept in schema ${this.schema} (DROP SCHEMA ${this.schema} CASCADE after)`);
    else await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`).catch(() => undefined);
    await this.pool.end();
  }
}

/**
 * The timeline that struck against the plan: the same digest means every planned fault struck, in order (what a seed
 * replays); how late they struck (a failover is awaited before the next fault) is wall-clock and varies with load.
 */
function struckLine(soak: Soak, plan: PlannedFault[], planDigest: string): string {
  const digest = timelineDigest(soak.struck);
  const late = [...soak.lateness].sort((a, b) => a - b);
  const median = late.length ? late[Math.floor(late.length / 2)] : 0;
  return (
    `== faults struck: ${soak.struck.length} of ${plan.length} planned, digest ${digest} ` +
    `(${digest === planDigest ? 'the plan’s' : `the plan’s is ${planDigest}`}); ` +
    `after their planned offset by ${median} ms median, ${late[late.length - 1] ?? 0} ms at most`
  );
}

async function main(): Promise<number> {
  const { minutes, topology, seed } = options();
  const plan: PlannedFault[] = planFaults(seed, minutes, topology);
  const replay = `CHAOS_SEED=${seed} CHAOS_MINUTES=${minutes} CHAOS_TOPOLOGY=${topology} npm run chaos`;
  console.log(`== chaos: ${topology}, ${minutes} min, seed ${seed} (replay: ${replay})`);
  console.log(`== fault plan (${plan.length} faults, the same for the same seed, length and topology):`);
  for (const planned of plan) console.log(`   ${faultLine(planned)}`);
  const planDigest = timelineDigest(plan);
  console.log(`== fault plan digest ${planDigest} (${countByKind(plan)})`);
  const soak = new Soak(topology, seed);
  // NOTE: Ctrl-C still stops every process the soak started and drops its schema.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      console.log(`== ${signal}: stopping`);
      void soak.tearDown().finally(() => process.exit(130));
    });
  let code = 1;
  try {
    console.log(`== starting ${topology} Redis, 1 producer and ${WORKERS} workers, each behind its own proxies`);
    await soak.setUp();
    if (topology === 'sentinel') soak.watchReplication();
    console.log('== faults');
    for (const planned of plan) {
      const wait = soak['t0'] + planned.atMs - Date.now();
      if (wait > 0) await sleep(wait);
      soak.lateness.push(Math.max(0, -wait));
      soak.struck.push(planned);
      await soak.strike(planned.fault);
    }
    const wait = soak['t0'] + minutes * 60_000 - Date.now();
    if (wait > 0) await sleep(wait);
    await soak.heal();
    soak.note('every fault healed, every worker up: the producer stops, the queue drains');
    const producingUntil = Date.now();
    await soak.send({ cmd: 'stop' });
    const queue = soak.redis.queue(soak.prefix);
    const deadline = Date.now() + DRAIN_MS;
    let counts: Record<string, number> = {};
    for (;;) {
      counts = await queue.getJobCounts(
        'active',
        'waiting',
        'prioritized',
        'delayed',
        'completed',
        'failed',
        'waiting-children',
      );
      if (counts.active + counts.waiting + counts.prioritized + Math.max(0, counts.delayed - 1) === 0) break;
      if (Date.now() > deadline) {
        soak.note(`the queue did not drain within ${DRAIN_MS} ms: ${JSON.stringify(counts)}`);
        break;
      }
      await sleep(500);
    }
    // NOTE: the workers keep running the recurring tick after the drain, so one count can catch a tick active. A run
    // the library left stranded stays active or waiting for good; any other clears within a lock and a stall check
    // (a killed worker's run) plus a stated 5 s margin: the queue must be seen idle (the next tick delayed) once by then.
    const settled = (c: Record<string, number>) => c.active + c.waiting + c.prioritized === 0 && c.delayed <= 1;
    const settleBy = Date.now() + WORKER_OPTIONS.lockDurationMs + WORKER_OPTIONS.stalledIntervalMs + 5_000;
    do {
      await sleep(250);
      counts = await queue.getJobCounts('active', 'waiting', 'prioritized', 'delayed', 'completed', 'failed');
    } while (!settled(counts) && Date.now() < settleBy);
    await queue.close();
    soak.note(`drained: ${JSON.stringify(counts)}`);
    const keys = await soak.redis.keys(soak.prefix);
    const lockKeys = keys.filter((k) => k.includes(':bgj:lock:'));
    const client = soak.redis.client();
    let locksWithoutTtl = 0;
    for (const key of lockKeys) if ((await client.pttl(key)) === -1) locksWithoutTtl++;
    let finishedBatchKeys = 0;
    for (const key of keys.filter((k) => k.includes(':bgj:batch:')))
      if ((await client.pttl(key)) > 0) finishedBatchKeys++;
    client.disconnect();
    const loopStalls = (
      await soak.pool.query<{ worker: string; at: Date; late_ms: number }>(`SELECT * FROM ${soak.schema}.loop_stalls`)
    ).rows.map((r) => ({ worker: r.worker, at: r.at.getTime(), lateMs: r.late_ms }));
    const facts: RunFacts = {
      dataLoss: soak.dataLoss,
      workless: soak.workless(loopStalls),
      redisDown: soak.redisDown,
      twoMasters: soak.twoMasters,
      exits: soak.exits,
      slowLinks: soak.slowLinks,
      loopStalls,
      producingUntil,
      states: (executionIds) => soak.send({ cmd: 'states', executionIds }),
      queue: {
        active: counts.active,
        waiting: counts.waiting,
        prioritized: counts.prioritized,
        completed: counts.completed,
        failed: counts.failed,
        delayed: counts.delayed,
      },
      keys: {
        total: keys.length,
        jobKeys: keys.filter((k) => /:\d+(:logs)?$/.test(k) || /:[0-9a-f-]{36}(:logs)?$/.test(k)).length,
        locksWithoutTtl,
        finishedBatchKeys,
      },
    };
    const verdicts = await checkInvariants(soak.pool, soak.schema, facts);
    verdicts.unshift({
      name: 'no app process exited on its own',
      held: soak.crashes.length === 0,
      detail:
        `${soak.crashes.length} crashes` + (soak.crashes.length ? `: ${soak.crashes.slice(0, 2).join('; ')}` : ''),
    });
    const work = await soak.pool.query<{ job_id: string; n: string }>(
      `SELECT job_id, count(*) AS n FROM ${soak.schema}.effects GROUP BY job_id ORDER BY job_id`,
    );
    console.log(`== faults injected: ${[...soak.counts].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
    console.log(struckLine(soak, plan, planDigest));
    if (topology === 'sentinel')
      console.log(
        `== Sentinel on its own (each counted as a data loss): ${soak.unplanned.length}` +
          (soak.unplanned.length ? `: ${soak.unplanned.join('; ')}` : ''),
      );
    console.log(`== work done (effects): ${work.rows.map((r) => `${r.job_id} ${r.n}`).join(', ')}`);
    const traffic = soak.members.map(
      (m) => `${m.name} ${Math.round([...m.proxies.values()].reduce((sum, p) => sum + p.forwarded, 0) / 1024)} KB`,
    );
    console.log(`== traffic through each process's proxies: ${traffic.join(', ')}`);
    const stalls = new Map<string, number[]>();
    for (const s of facts.loopStalls) stalls.set(s.worker, [...(stalls.get(s.worker) ?? []), s.lateMs]);
    console.log(
      `== event-loop stalls (a ${LOOP_WATCH.everyMs} ms timer ${LOOP_WATCH.stallMs} ms late or more): ` +
        (soak.members
          .map((m) => stalls.get(m.name) ?? [])
          .map((l, i) => `${soak.members[i].name} ${l.length}${l.length ? ` (at most ${Math.max(...l)} ms)` : ''}`)
          .join(', ') || 'none'),
    );
    console.log('== invariants');
    for (const v of verdicts) console.log(`${v.held ? 'held    ' : 'VIOLATED'}  ${v.name}: ${v.detail}`);
    const violated = verdicts.filter((v) => !v.held).length;
    if (violated > 0) {
      soak.keepLedger = true;
      console.log(`== replay: ${replay}`);
      console.log('== fault timeline of this run:');
      for (const line of soak.timeline) console.log(`   ${line}`);
    }
    console.log(`invariants: ${verdicts.length - violated} held, ${violated} violated`);
    code = violated > 0 ? 1 : 0;
  } catch (error) {
    console.log(`== the soak itself failed: ${(error as Error).stack}`);
    console.log(struckLine(soak, plan, planDigest));
    console.log(`== replay: ${replay}`);
    for (const line of soak.timeline) console.log(`   ${line}`);
    console.log('invariants: 0 held, 1 violated');
  } finally {
    await soak.tearDown().catch((error: Error) => console.log(`== teardown: ${error.message}`));
  }
  return code;
}

void main().then((code) => process.exit(code));
