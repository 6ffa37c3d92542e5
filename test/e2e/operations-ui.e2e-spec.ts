import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  INestApplication,
  Injectable,
  Type,
  UnauthorizedException,
} from '@nestjs/common';
import request from 'supertest';
import { BackgroundJobs, BackgroundJobsModuleOptions, JobContext, PermanentJobError } from 'nestjs-background-jobs';
import { OPERATIONS_WITHOUT_GUARD } from 'nestjs-background-jobs/operations/operations.messages';
import { FAILURE_WINDOW_MS } from 'nestjs-background-jobs/operations/operations.overview';
import { defineJob, startHttpJobsApp, startJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix } from '../support/redis';

const TOKEN = 'ui-test-token';
const auth = { Authorization: `Bearer ${TOKEN}` };

/** 401 without credentials, 403 with a wrong token: the two refusals a host guard gives. */
@Injectable()
class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>()
      .headers.authorization;
    if (!header) throw new UnauthorizedException('a bearer token is required');
    if (header !== `Bearer ${TOKEN}`) throw new ForbiddenException('wrong token');
    return true;
  }
}

const ASSETS = ['ui/js/app.js', 'ui/js/core.js', 'ui/app.css', 'ui/config.json'];

describe('operations dashboard (operations.ui)', () => {
  let prefix: string;
  const apps: INestApplication[] = [];

  const boot = (jobs: Type[], options: Partial<BackgroundJobsModuleOptions>): Promise<INestApplication> =>
    startHttpJobsApp(apps, prefix, jobs, options);
  const Nightly = () => defineJob('NightlyJob', { id: 'nightly', cron: '0 2 * * *' });

  beforeEach(() => {
    prefix = randomPrefix('ui');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  it('is not mounted without ui: true, nor without operations, and refuses to boot with ui but no guard', async () => {
    const withoutUi = await boot([Nightly()], { operations: { guard: TokenGuard } });
    await request(withoutUi.getHttpServer()).get('/jobs/recurring').set(auth).expect(200);
    for (const path of ['/jobs/ui', ...ASSETS.map((a) => `/jobs/${a}`)])
      await request(withoutUi.getHttpServer()).get(path).set(auth).expect(404);

    const withUiFalse = await boot([Nightly()], { operations: { guard: TokenGuard, ui: false } });
    await request(withUiFalse.getHttpServer()).get('/jobs/ui').set(auth).expect(404);

    const withoutOperations = await boot([Nightly()], {});
    await request(withoutOperations.getHttpServer()).get('/jobs/ui').set(auth).expect(404);
    await request(withoutOperations.getHttpServer()).get('/jobs/overview').set(auth).expect(404);

    await expect(boot([Nightly()], { operations: { guard: undefined as never, ui: true } })).rejects.toThrow(
      OPERATIONS_WITHOUT_GUARD,
    );
  });

  it('refuses to boot on a non-boolean ui or an unknown operations key, naming it', async () => {
    await expect(
      boot([Nightly()], { operations: { guard: TokenGuard, ui: 'yes' as unknown as boolean } }),
    ).rejects.toThrow(/operations\.ui is invalid \("yes"\): expected true/);
    await expect(boot([Nightly()], { operations: { guard: TokenGuard, dashboard: true } as never })).rejects.toThrow(
      /operations\.dashboard is invalid \(true\): expected one of the keys guard, path, ui/,
    );
  });

  it('page and assets answer 401 without the token and 403 with a wrong one; the page then shows a login form', async () => {
    const app = await boot([Nightly()], { operations: { guard: TokenGuard, ui: true, path: 'admin/jobs' } });
    const server = app.getHttpServer();
    for (const path of ['/admin/jobs/ui', ...ASSETS.map((a) => `/admin/jobs/${a}`)]) {
      await request(server).get(path).expect(401);
      await request(server).get(path).set({ Authorization: 'Bearer wrong' }).expect(403);
    }
    const login = await request(server)
      .get('/admin/jobs/ui')
      .expect(401)
      .expect('content-type', /text\/html/);
    expect(login.text).toContain('<label for="token">Operations token</label>');
    expect(login.text).not.toContain('app.js');
    const refused = await request(server).get('/admin/jobs/ui').set({ Authorization: 'Bearer wrong' }).expect(403);
    expect(refused.text).toContain('The token was refused (403): wrong token');
    // NOTE: a refused asset keeps the guard's own JSON answer: only the page has a login form.
    const asset = await request(server).get('/admin/jobs/ui/js/app.js').expect(401);
    expect(asset.body).toMatchObject({ statusCode: 401, message: 'a bearer token is required' });
  });

  it('serves page, scripts, stylesheet and settings with the bearer header', async () => {
    const app = await boot([Nightly()], { operations: { guard: TokenGuard, ui: true } });
    const server = app.getHttpServer();
    const page = await request(server)
      .get('/jobs/ui')
      .set(auth)
      .expect(200)
      .expect('content-type', /text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.text).toContain('<script src="/jobs/ui/js/app.js" defer></script>');
    expect(page.text).toContain('<link rel="stylesheet" href="/jobs/ui/app.css" />');
    expect(page.text).toMatch(/<nav aria-label="Dashboard sections">/);
    await request(server)
      .get('/jobs/ui/js/app.js')
      .set(auth)
      .expect(200)
      .expect('content-type', /javascript/);
    await request(server)
      .get('/jobs/ui/app.css')
      .set(auth)
      .expect(200)
      .expect('content-type', /text\/css/);

    await request(server).get('/jobs/ui/js/other.js').set(auth).expect(404);
  });

  it('GET overview counts runs by queue and state and the last hour failures by kind; a failed run detail carries its stack', async () => {
    const Report = defineJob('ReportJob', { id: 'report', queue: 'reports' }, async (ctx: JobContext) => {
      await ctx.reportProgress(100);
    });
    const Broken = defineJob('BrokenJob', { id: 'broken' }, function throwsTemplateMissing() {
      throw new PermanentJobError('the template is missing');
    });
    const app = await boot([Nightly(), Report, Broken], { operations: { guard: TokenGuard } });
    const jobs = app.get(BackgroundJobs);
    const server = app.getHttpServer();
    await request(server).get('/jobs/overview').expect(401);

    for (let i = 0; i < 2; i++) expect((await jobs.runNow(Report)).state).toBe('completed');
    const failed = await jobs.runNow(Broken);
    expect(failed.state).toBe('failed');
    const delayed = await jobs.enqueue(Report, undefined, { delayMs: 60_000 });
    const cancelled = await jobs.enqueue(Report, undefined, { delayMs: 60_000 });
    expect(await jobs.cancel(cancelled)).toBe(true);

    const before = Date.now();
    const overview = await request(server).get('/jobs/overview').set(auth).expect(200);
    const zero = { pending: 0, delayed: 0, running: 0, completed: 0, failed: 0, cancelled: 0, skipped: 0 };
    expect(overview.body.queues).toEqual(
      expect.arrayContaining([
        { queue: 'reports', counts: { ...zero, completed: 2, delayed: 1 } },
        // NOTE: delayed 1 is the nightly schedule's next tick, which BullMQ keeps as a delayed job.
        { queue: 'background-jobs', counts: { ...zero, failed: 1, delayed: 1 } },
      ]),
    );
    expect(overview.body.queues).toHaveLength(2);
    // NOTE: the tombstone of a run cancelled before it started is not listed by the transport, so only `failed` counts.
    expect(overview.body.failures).toMatchObject({
      total: 1,
      byKind: { transient: 0, permanent: 1, cancelled: 0, timeout: 0, 'lock-lost': 0 },
    });
    expect(Math.abs(Date.parse(overview.body.failures.since) - (before - FAILURE_WINDOW_MS))).toBeLessThan(5_000);
    expect(delayed).toBeDefined();

    const detail = await request(server).get(`/jobs/executions/${failed.executionId}`).set(auth).expect(200);
    expect(detail.body.failure).toMatchObject({ kind: 'permanent', message: 'the template is missing' });
    expect(detail.body.failure.stack).toMatch(
      /^PermanentJobError: the template is missing\n\s+at throwsTemplateMissing/,
    );
  });

  it('the embedded transport records the failure stack too', async () => {
    const Broken = defineJob('BrokenJob', { id: 'broken' }, function throwsTemplateMissing() {
      throw new PermanentJobError('the template is missing');
    });
    const app = await startJobsApp({ prefix, transport: 'local', jobs: [Broken] });
    try {
      const failed = await app.get(BackgroundJobs).runNow(Broken);
      expect(failed.failure).toMatchObject({ kind: 'permanent', message: 'the template is missing' });
      expect(failed.failure?.stack).toMatch(/^PermanentJobError: the template is missing\n\s+at throwsTemplateMissing/);
    } finally {
      await app.close();
    }
  });
});
