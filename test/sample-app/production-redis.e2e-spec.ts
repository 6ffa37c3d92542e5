import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../../apps/sample-app/src/app.module';
import {
  LEGACY_QUEUE,
  NOTIFICATIONS_QUEUE,
  PIPELINE_SCHEDULES,
} from '../../apps/sample-app/src/notification.schedules';
import { describeBackends, readSampleConfig } from '../../apps/sample-app/src/sample-app.config';
import { randomPrefix, waitFor } from '../support/redis';
import { RedisTopology, startTopology } from '../support/redis-topology';
import { postgresTarget } from './support/sample-app';

const TOKEN = 'sample-production-redis';
const auth = { Authorization: `Bearer ${TOKEN}` };
/** Rolled back to its legacy scheduler, so the legacy queue and processor run on the topology too. */
const ROLLED_BACK = 'campaign-scheduler-pipeline';

/**
 * The sample app as an operator starts it on a Redis Cluster (REDIS_CLUSTER_NODES) and on Sentinel (REDIS_SENTINELS +
 * REDIS_SENTINEL_NAME): bull-board, the dashboard's REST surface, metrics and the legacy processor all see the keys
 * the library writes (on the cluster, each queue under `<prefix>:{<queue>}`).
 */
describe.each(['cluster', 'sentinel'] as const)('sample app on production Redis: %s', (kind) => {
  let topology: RedisTopology;
  let prefix: string;
  let app: INestApplication | undefined;
  const database = postgresTarget();
  const savedToken = process.env.OPS_TOKEN;

  beforeAll(async () => {
    topology = await startTopology(kind);
    process.env.OPS_TOKEN = TOKEN;
  }, 60_000);

  afterAll(async () => {
    await topology?.destroy();
    if (savedToken === undefined) delete process.env.OPS_TOKEN;
    else process.env.OPS_TOKEN = savedToken;
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await database.cleanup();
    await topology.deletePrefix(prefix);
  });

  /** The environment an operator sets for this topology. */
  const redisEnv = (): NodeJS.ProcessEnv => {
    const list = (nodes: Array<{ host: string; port: number }>) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
    return kind === 'cluster'
      ? { REDIS_CLUSTER_NODES: list(topology.cluster!.seeds) }
      : { REDIS_SENTINELS: list(topology.sentinel!.sentinels), REDIS_SENTINEL_NAME: topology.sentinel!.name };
  };

  it('bull-board lists the pipeline and legacy schedulers, /jobs answers overview, recurring and metrics, a triggered job and a legacy run complete', async () => {
    prefix = randomPrefix(`sample-${kind}`);
    const config = {
      ...readSampleConfig({ ...redisEnv(), JOBS_PREFIX: prefix, JOBS_DISABLED: ROLLED_BACK }),
      database: await database.fresh(),
    };
    expect(describeBackends(config)).toBe(
      `${kind === 'cluster' ? 'BullMQ on Redis Cluster' : 'BullMQ on Sentinel'}, PostgreSQL`,
    );
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const http = app.getHttpServer();
    const pipeline = PIPELINE_SCHEDULES.map((s) => s.id)
      .filter((id) => id !== ROLLED_BACK)
      .sort();

    const recurring = (await request(http).get('/jobs/recurring').set(auth).expect(200)).body as Array<{
      jobId: string;
      queue: string;
    }>;
    expect(
      recurring
        .filter((r) => r.queue === NOTIFICATIONS_QUEUE)
        .map((r) => r.jobId)
        .sort(),
    ).toEqual(pipeline);

    // NOTE: bull-board reads raw BullMQ keys: it lists these only if its prefix per queue is the library's.
    const schedulers = (await request(http).get('/admin/queues/api/job-schedulers').set(auth).expect(200)).body
      .schedulers as Array<{ id: string; queueName: string }>;
    expect(
      schedulers
        .filter((s) => s.queueName === NOTIFICATIONS_QUEUE)
        .map((s) => s.id)
        .sort(),
    ).toEqual(pipeline);
    expect(schedulers.filter((s) => s.queueName === LEGACY_QUEUE).map((s) => s.id)).toEqual(['campaign-scheduler']);
    const everyRecurring = recurring.map((r) => `${r.queue}/${r.jobId}`);
    expect(everyRecurring.every((entry) => schedulers.some((s) => `${s.queueName}/${s.id}` === entry))).toBe(true);
    await request(http).get('/admin/queues/api/job-schedulers').expect(401);

    const health = await request(http).get('/health').expect(200);
    // NOTE: one worker per queue of a registered job: `background-jobs` (the heartbeat) and `notifications`.
    expect(health.body.info['background-jobs']).toMatchObject({
      status: 'up',
      redis: 'up',
      workers: { expected: 2, running: 2 },
    });

    const jobId = 'notification-retry-expire-pipeline';
    const triggered = await request(http).post(`/jobs/recurring/${jobId}/trigger`).set(auth).expect(202);
    const run = await waitFor(
      `${jobId} to complete`,
      async () => {
        const res = await request(http).get(`/jobs/executions/${triggered.body.executionId}`).set(auth);
        return res.status === 200 && res.body.state === 'completed' ? res.body : null;
      },
      15_000,
      100,
    );
    expect(run).toMatchObject({ jobId, state: 'completed' });

    const overview = (await request(http).get('/jobs/overview').set(auth).expect(200)).body as {
      queues: Array<{ queue: string; counts: Record<string, number> }>;
    };
    expect(overview.queues.find((q) => q.queue === NOTIFICATIONS_QUEUE)?.counts.completed).toBeGreaterThanOrEqual(1);
    const metrics = (await request(http).get('/jobs/metrics').set(auth).expect(200)).text;
    expect(metrics).toMatch(new RegExp(`background_jobs_runs_total\\{job="${jobId}",outcome="completed"[^}]*\\} 1\\b`));
    // NOTE: read from Redis at scrape time: each schedule of the queue holds its next run as a delayed job.
    const delayed = new RegExp(
      `background_jobs_queue_depth\\{queue="${NOTIFICATIONS_QUEUE}",state="delayed"\\} (\\d+)`,
    ).exec(metrics);
    expect(Number(delayed?.[1])).toBeGreaterThanOrEqual(1);

    // NOTE: bull-board adds the legacy scheduler's job to the queue; the @nestjs/bullmq processor completes it only if
    // it listens on the same keys.
    await request(http)
      .put(`/admin/queues/api/queues/${LEGACY_QUEUE}/job-schedulers/campaign-scheduler/run`)
      .set(auth)
      .expect(200);
    await waitFor(
      'the legacy processor to complete the run',
      async () => {
        const queues = (await request(http).get('/admin/queues/api/queues').set(auth).expect(200)).body
          .queues as Array<{ name: string; counts: Record<string, number> }>;
        return (queues.find((q) => q.name === LEGACY_QUEUE)?.counts.completed ?? 0) >= 1;
      },
      15_000,
      100,
    );
  }, 60_000);
});
