import { CanActivate, INestApplication, Injectable } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import request from 'supertest';
import IORedis from 'ioredis';
import { BackgroundJobs, BackgroundJobsHealthIndicator, JobContext } from 'nestjs-background-jobs';
import { DEFAULTS } from 'nestjs-background-jobs/core/defaults';
import { LOCK_BUSY } from 'nestjs-background-jobs/contracts/background-jobs.messages';
import { REPLICA_UNREACHABLE_WARNING } from 'nestjs-background-jobs/operations/operations.messages';
import { defineJob, startHttpJobsApp, startJobsApp } from '../support/jobs-app';
import { randomPrefix, waitFor } from '../support/redis';
import { RedisTopology, startTopology } from '../support/redis-topology';

@Injectable()
class OpenGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

/** How often an instance notices an emptied Redis. */
const HEAL_INTERVAL_MS = DEFAULTS.healIntervalMs;

/**
 * Production topologies: a Redis Cluster (3 masters, 3 replicas) and a Sentinel-managed master, each driven the
 * way an app uses them with two instances, then again after the failover that topology is for.
 */
describe.each(['cluster', 'sentinel'] as const)('production Redis: %s', (kind) => {
  let topology: RedisTopology;
  let prefix: string;
  const apps: TestingModule[] = [];

  beforeAll(async () => {
    topology = await startTopology(kind);
  }, 60_000);

  afterAll(async () => {
    await topology?.destroy();
  });

  beforeEach(() => {
    prefix = randomPrefix(`prod-${kind}`);
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await topology.deletePrefix(prefix);
  });

  /** Runs on either instance, recorded by instance index. */
  const ticks: Array<{ instance: number; scheduledAt: number }> = [];
  const running = new Map<string, number>();
  /** Holds the locked job's run until the test opens it. */
  let gate = { open: () => undefined as void, opened: Promise.resolve() };
  const newGate = () => {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    gate = { open, opened };
  };

  const bootTwo = async (): Promise<BackgroundJobs[]> => {
    ticks.length = 0;
    running.clear();
    const instances: BackgroundJobs[] = [];
    for (const instance of [0, 1]) {
      const Tick = defineJob('TickJob', { id: 'tick', cron: '* * * * * *', queue: 'ticks' }, (ctx: JobContext) => {
        ticks.push({ instance, scheduledAt: ctx.scheduledAt!.getTime() });
      });
      const Waiter = defineJob('WaiterJob', { id: 'waiter' }, (ctx: JobContext) => {
        running.set(ctx.executionId, instance);
        return new Promise((resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
          setTimeout(resolve, 20_000);
        });
      });
      const Locked = defineJob('LockedJob', { id: 'locked', lock: { ttlMs: 3_000 } }, () => gate.opened);
      const Echo = defineJob('EchoJob', { id: 'echo' }, (ctx: JobContext<{ n: number }>) => ({
        n: ctx.data.n,
        instance,
      }));
      const app = await startJobsApp({ prefix, connection: topology.connection, jobs: [Tick, Waiter, Locked, Echo] });
      apps.push(app);
      instances.push(app.get(BackgroundJobs));
    }
    return instances;
  };

  /** Each scheduled tick ran once, on one instance or the other. */
  const expectEachTickOnce = () => {
    const at = ticks.map((t) => t.scheduledAt);
    expect(new Set(at).size).toBe(at.length);
  };

  /** runNow, the job lock, cross-instance cancel, pause/resume: what an app relies on, checked across two instances. */
  const exercise = async ([a, b]: BackgroundJobs[]) => {
    expect(await a.runNow('echo', { data: { n: 7 } })).toMatchObject({ state: 'completed', result: { n: 7 } });

    newGate();
    const locked = await Promise.all([a.enqueue('locked'), b.enqueue('locked')]);
    const skipped = await waitFor('one locked run to be skipped', async () => {
      const states = await Promise.all(locked.map((id) => a.getExecution(id)));
      return states.find((e) => e?.state === 'skipped') ?? null;
    });
    gate.open();
    const ended = (id: string) =>
      waitFor('the locked runs to end', async () => {
        const e = await a.getExecution(id);
        return e && ['completed', 'skipped', 'failed'].includes(e.state) ? e : null;
      });
    const lockStates = (await Promise.all(locked.map(ended))).map((e) => e!.state).sort();
    expect(lockStates).toEqual(['completed', 'skipped']);
    expect(skipped!.skipReason).toBe(LOCK_BUSY('locked'));

    const id = await a.enqueue('waiter');
    const ranOn = await waitFor(
      'the waiter to start',
      () => (running.has(id) ? { instance: running.get(id) } : null),
      10_000,
    );
    const other = ranOn!.instance === 0 ? b : a;
    expect(await other.cancel(id)).toBe(true);
    const cancelled = await waitFor('the cancel to reach the instance running it', async () => {
      const execution = await a.getExecution(id);
      return execution?.state === 'cancelled' ? execution : null;
    });
    expect(cancelled!.failure).toMatchObject({ kind: 'cancelled' });

    await a.pause('tick');
    expect((await b.listRecurring()).find((r) => r.jobId === 'tick')).toMatchObject({ paused: true });
    const pausedAt = Date.now();
    // NOTE: an absence can only be observed over a window: 2.5 s covers two ticks of a one-second job.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(ticks.filter((t) => t.scheduledAt > pausedAt + 100)).toEqual([]);
    await b.resume('tick');
    const resumedAt = Date.now();
    await waitFor('a tick after resume', () => ticks.some((t) => t.scheduledAt >= resumedAt), 5_000);
    expectEachTickOnce();
  };

  /** What the health indicator says about the topology: the cluster's nodes by role, or the Sentinel master. */
  const healthOf = async () => {
    const { jobs } = await apps[0].get(BackgroundJobsHealthIndicator).isHealthy('jobs');
    const nodes = (jobs.nodes ?? []) as Array<{ address: string; role: string; reachable: boolean }>;
    const ports = (role: string) =>
      nodes
        .filter((n) => n.role === role && n.reachable)
        .map((n) => Number(n.address.split(':')[1]))
        .sort();
    return {
      status: jobs.status,
      masters: ports('master'),
      replicas: ports('replica'),
      master: jobs.master as string | undefined,
    };
  };

  /** Health names the topology as Redis itself reports it. */
  const expectHealthMatchesTopology = async () => {
    if (kind === 'cluster') {
      const roles = await topology.cluster!.roles();
      const expected = {
        status: 'up',
        masters: roles
          .filter((r) => r.role === 'master')
          .map((r) => r.port)
          .sort(),
        replicas: roles
          .filter((r) => r.role === 'slave')
          .map((r) => r.port)
          .sort(),
      };
      // NOTE: the client learns the new roles from its next slot refresh, which a MOVED reply or its timer triggers.
      await waitFor(
        `health to show masters ${expected.masters.join(',')}`,
        async () => {
          const health = await healthOf();
          return (
            health.status === expected.status &&
            String(health.masters) === String(expected.masters) &&
            String(health.replicas) === String(expected.replicas)
          );
        },
        10_000,
        200,
      );
    } else {
      const port = await topology.sentinel!.masterPort();
      await waitFor(
        `health to name the master 127.0.0.1:${port}`,
        async () => (await healthOf()).master === `127.0.0.1:${port}`,
        10_000,
        200,
      );
      expect((await healthOf()).status).toBe('up');
    }
  };

  const failover = (): Promise<unknown> =>
    kind === 'cluster' ? topology.cluster!.failoverEveryShard() : topology.sentinel!.killMaster();

  it(`two instances: once per tick, runNow, lock, cross-instance cancel, pause/resume, health naming the ${kind === 'cluster' ? 'nodes' : 'master'}; the same after ${kind === 'cluster' ? 'a failover of every shard' : 'the master is killed'}`, async () => {
    const instances = await bootTwo();
    await waitFor('three ticks', () => ticks.length >= 3, 6_000);
    await exercise(instances);
    await expectHealthMatchesTopology();

    const delayed = await instances[0].enqueue('echo', { n: 1 }, { delayMs: 1_000 });
    const failoverStarted = Date.now();
    await failover();
    const after = Date.now();

    // NOTE: 10 s is the bound for ticks to continue after a failover.
    await waitFor('a tick scheduled after the failover', () => ticks.some((t) => t.scheduledAt >= after), 10_000, 20);
    process.stdout.write(
      `[failover] ${kind}: failover took ${after - failoverStarted} ms; the first tick after it ran ${Date.now() - after} ms later\n`,
    );
    expect(
      await waitFor(
        'the run enqueued before the failover to complete',
        async () => {
          const execution = await instances[1].getExecution(delayed);
          return execution?.state === 'completed' ? execution : null;
        },
        10_000,
      ),
    ).toMatchObject({ result: { n: 1 } });
    await exercise(instances);
    expectEachTickOnce();
    await expectHealthMatchesTopology();
  }, 90_000);

  it('the operations surface over HTTP: overview, executions, recurring, pause, metrics and the dashboard', async () => {
    const httpApps: INestApplication[] = [];
    try {
      const Tick = defineJob('TickJob', { id: 'tick', cron: '* * * * * *', queue: 'ticks' });
      const Echo = defineJob('EchoJob', { id: 'echo' }, (ctx: JobContext<{ n: number }>) => ({ n: ctx.data.n }));
      const app = await startHttpJobsApp(
        httpApps,
        prefix,
        [Tick, Echo],
        { operations: { guard: OpenGuard, ui: true } },
        topology.connection,
      );
      const server = app.getHttpServer();
      const run = await app.get(BackgroundJobs).runNow(Echo, { data: { n: 9 } });

      expect((await request(server).get('/jobs/overview').expect(200)).body).toBeDefined();
      const executions = (await request(server).get('/jobs/executions?jobId=echo').expect(200)).body;
      expect(executions.items.map((e: { executionId: string }) => e.executionId)).toContain(run.executionId);
      await request(server)
        .post('/jobs/recurring/tick/pause')
        .expect((res) => expect(res.status).toBeLessThan(300));
      const recurring = (await request(server).get('/jobs/recurring').expect(200)).body as Array<{
        jobId: string;
        paused: boolean;
      }>;
      expect(recurring.find((r) => r.jobId === 'tick')).toMatchObject({ paused: true });
      const metrics = (await request(server).get('/jobs/metrics').expect(200)).text;
      expect(metrics).toMatch(/background_jobs_runs_total\{[^}]*job="echo"[^}]*\} 1/);
      expect(metrics).toMatch(/background_jobs_queue_depth\{queue="ticks",state="waiting"\}/);
      await request(server).get('/jobs/ui').expect(200);
    } finally {
      await Promise.all(httpApps.map((app) => app.close()));
    }
  }, 30_000);

  if (kind === 'cluster') {
    it('every key lives on the cluster, one hash slot per queue and one for the framework; nothing reaches 127.0.0.1:6379', async () => {
      const local = new IORedis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1, lazyConnect: true });
      local.on('error', () => undefined);
      const seenLocally: string[] = [];
      const monitor = await local.connect().then(
        () => local.monitor(),
        () => undefined,
      );
      monitor?.on('monitor', (_time: string, args: string[]) => {
        if (args.some((arg) => arg.includes(prefix))) seenLocally.push(args.join(' '));
      });
      try {
        const [a] = await bootTwo();
        await a.runNow('echo', { data: { n: 1 } });
        await a.pause('tick');

        const keys: string[] = [];
        for (const port of await topology.cluster!.masterPorts()) {
          const node = new IORedis(port, '127.0.0.1');
          try {
            for (const pattern of [`${prefix}:*`, `{${prefix}:*`]) keys.push(...(await node.keys(pattern)));
          } finally {
            node.disconnect();
          }
        }
        const tags = new Set(keys.map((key) => /\{([^}]+)\}/.exec(key)?.[1] ?? `no tag: ${key}`));
        expect([...tags].sort()).toEqual([`${prefix}:bgj`, 'background-jobs', 'ticks'].sort());
        const client = topology.client();
        try {
          const slots = await Promise.all([...tags].map((tag) => client.call('CLUSTER', 'KEYSLOT', `{${tag}}`)));
          expect(new Set(slots).size).toBe(3);
        } finally {
          client.disconnect();
        }
        if (monitor) expect(seenLocally).toEqual([]);
      } finally {
        monitor?.disconnect();
        local.disconnect();
      }
    }, 60_000);

    it("the host's ioredis Cluster: runs on it (cancel included), and it is still open after the app closed", async () => {
      const host = topology.cluster!.client();
      try {
        const Echo = defineJob('EchoJob', { id: 'echo' }, (ctx: JobContext<{ n: number }>) => ({ n: ctx.data.n }));
        const app = await startJobsApp({ prefix, connection: host, jobs: [Echo] });
        apps.push(app);
        const jobs = app.get(BackgroundJobs);
        expect(await jobs.runNow(Echo, { data: { n: 5 } })).toMatchObject({ state: 'completed', result: { n: 5 } });
        const delayed = await jobs.enqueue(Echo, { n: 6 }, { delayMs: 10_000 });
        expect(await jobs.cancel(delayed)).toBe(true);
        expect(await jobs.getExecution(delayed)).toMatchObject({ state: 'cancelled' });
        await apps.splice(apps.indexOf(app), 1)[0].close();

        expect(await host.ping()).toBe('PONG');
      } finally {
        host.disconnect();
      }
    }, 30_000);

    it('the whole cluster comes back empty: schedules and pause flags are re-asserted, as on one server', async () => {
      const [a, b] = await bootTwo();
      await a.pause('tick');
      await topology.cluster!.flushAll();
      const flushed = Date.now();
      // NOTE: each instance checks every heal interval; 2 intervals plus 1 s for the re-assert and a tick.
      await waitFor(
        'the pause flag to be written back',
        async () => (await b.listRecurring()).find((r) => r.jobId === 'tick')?.paused === true,
        2 * HEAL_INTERVAL_MS + 1_000,
      );
      await b.resume('tick');
      await waitFor(
        'a tick after the cluster came back empty',
        () => ticks.some((t) => t.scheduledAt >= flushed),
        2 * HEAL_INTERVAL_MS + 3_000,
        100,
      );
      expectEachTickOnce();
    }, 60_000);

    // NOTE: last of the cluster cases: it leaves a replica down.
    it('health: a replica down keeps it up, with a warning naming the replica', async () => {
      await bootTwo();
      const replica = (await topology.cluster!.roles()).find((r) => r.role === 'slave')!;
      await topology.cluster!.killNode(replica.port);

      // NOTE: the cluster flags a node after cluster-node-timeout (2 s here); 3 s of margin for the gossip.
      const result = await waitFor(
        'health to warn about the replica',
        async () => {
          const result = await apps[0].get(BackgroundJobsHealthIndicator).isHealthy('jobs');
          return Array.isArray(result.jobs.warnings) ? result : null;
        },
        5_000,
        200,
      );
      const jobs = result!.jobs;
      expect(jobs.status).toBe('up');
      expect(jobs.warnings).toEqual([REPLICA_UNREACHABLE_WARNING([`127.0.0.1:${replica.port}`])]);
    }, 30_000);
  }
});
