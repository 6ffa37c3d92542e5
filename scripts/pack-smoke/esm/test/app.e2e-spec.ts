import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { App } from 'supertest/types.js';
import { BackgroundJobs, BackgroundJobsHealthIndicator } from 'nestjs-background-jobs';
import { AppModule, smokeTransport } from '../src/app.module.js';
import { SmokeRecorder } from '../src/smoke.jobs.js';

describe.each(['bullmq', 'local'])('nestjs-background-jobs in a NestJS 12 ESM app (%s transport)', (type) => {
  let app: INestApplication<App>;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forTransport(smokeTransport(type))],
    }).compile();
    app = moduleRef.createNestApplication();
    await app.init();
  });

  afterEach(async () => {
    await app.close();
  });

  it('runs an enqueued job for the tenant the ClsModule middleware set from the request', async () => {
    const response = await request(app.getHttpServer())
      .post('/greet')
      .set('x-tenant-id', 'acme')
      .send({ name: 'esm app' })
      .expect(201);
    expect(response.body).toMatchObject({
      state: 'completed',
      tenantId: 'acme',
      result: 'hello esm app (ctx tenant acme, TenantContext acme)',
    });
  });

  it('runs the recurring job on its cron and lists it', async () => {
    // NOTE: the cron fires every second: 3 s is one period plus a 2 s margin for boot and a loaded CI machine.
    await app.get(SmokeRecorder).nextTick(3_000);
    const recurring = await app.get(BackgroundJobs).listRecurring();
    expect(recurring.map((r) => r.jobId)).toContain('smoke-tick');
  });

  it('reports up through @nestjs/terminus 12', async () => {
    const health = await app.get(BackgroundJobsHealthIndicator).isHealthy('jobs');
    expect(health.jobs).toMatchObject({ status: 'up', workers: { expected: 1, running: 1 } });
  });
});
