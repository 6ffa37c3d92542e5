import { INestApplication } from '@nestjs/common';
import { hostname } from 'node:os';
import request from 'supertest';
import { BackgroundJobs, OperationsTokenGuard } from 'nestjs-background-jobs';
import { defineJob, startHttpJobsApp, startJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix, waitFor } from '../support/redis';

const TOKEN = 'instances-token-0123456789';
const auth = { Authorization: `Bearer ${TOKEN}` };

interface Instance {
  instanceId: string;
  hostname: string;
  pid: number;
  queues: string[];
  concurrency: number;
  running: number;
  startedAt: string;
  lastBeatAt: string;
  version: string;
}

describe('GET <path>/instances: the live instances running workers', () => {
  let prefix: string;
  const apps: { close(): Promise<unknown> }[] = [];

  beforeEach(() => {
    prefix = randomPrefix('inst');
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  it('lists each instance with its queues, concurrency and running count; a closed one leaves the list', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const Slow = defineJob('SlowJob', { id: 'slow', queue: 'slow' }, () => held);
    const options = { operations: { guard: new OperationsTokenGuard({ token: TOKEN }) }, worker: { concurrency: 3 } };
    const web: INestApplication = await startHttpJobsApp([], prefix, [Slow], options);
    apps.push(web);
    const other = await startJobsApp({ prefix, jobs: [Slow], worker: { concurrency: 5 } });
    const list = async () =>
      (await request(web.getHttpServer()).get('/jobs/instances').set(auth).expect(200)).body as Instance[];

    const both = await list();
    expect(both).toHaveLength(2);
    expect(both.map((i) => i.concurrency).sort()).toEqual([3, 5]);
    for (const instance of both) {
      expect(instance).toMatchObject({ hostname: hostname(), pid: process.pid, queues: ['slow'], version: '0.1.0' });
      expect(Date.parse(instance.lastBeatAt)).toBeGreaterThanOrEqual(Date.parse(instance.startedAt));
    }
    expect(new Set(both.map((i) => i.instanceId)).size).toBe(2);

    await web.get(BackgroundJobs).enqueue(Slow, undefined);
    await waitFor(
      'one running run reported by a heartbeat',
      async () => (await list()).some((i) => i.running === 1),
      10_000,
      200,
    );
    release();

    await other.close();
    const left = await list();
    expect(left.map((i) => i.concurrency)).toEqual([3]);
  });

  it('the embedded transport lists its own process', async () => {
    const Slow = defineJob('SlowJob', { id: 'slow', queue: 'slow' });
    const app = await startJobsApp({ prefix, transport: 'local', jobs: [Slow] });
    apps.push(app);
    const { ExecutionReader } = await import('nestjs-background-jobs/core');
    const instances = await app.get(ExecutionReader).listInstances();
    expect(instances).toEqual([
      expect.objectContaining({
        hostname: hostname(),
        pid: process.pid,
        queues: ['slow'],
        concurrency: 10,
        running: 0,
      }),
    ]);
  });
});
