import { CanActivate, ExecutionContext, ForbiddenException, INestApplication, Injectable } from '@nestjs/common';
import request from 'supertest';
import { BackgroundJobs, OperationsTokenGuard } from 'nestjs-background-jobs';
import { DASHBOARD_CSRF_HEADER, DASHBOARD_SESSION_COOKIE } from 'nestjs-background-jobs/operations/dashboard.assets';
import {
  DASHBOARD_CSRF_REFUSED,
  OPERATIONS_READ_ONLY_ACTION,
} from 'nestjs-background-jobs/operations/operations.messages';
import { defineJob, startHttpJobsApp } from '../support/jobs-app';
import { deletePrefix, randomPrefix } from '../support/redis';

const FULL = 'full-access-token-0123456789';
const READ_ONLY = 'read-only-token-0123456789';

/** The session cookie's value from a sign-in answer, and its attributes. */
function sessionCookieOf(response: request.Response): { pair: string; attributes: string } {
  const header = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  const line = header.find((c) => c.startsWith(`${DASHBOARD_SESSION_COOKIE}=`));
  if (!line) throw new Error(`no session cookie in ${JSON.stringify(header)}`);
  const [pair, ...attributes] = line.split(';').map((part) => part.trim());
  return { pair, attributes: attributes.join('; ') };
}

describe('dashboard session (sign-in, CSRF, headers)', () => {
  let prefix: string;
  const apps: INestApplication[] = [];

  beforeEach(() => {
    prefix = randomPrefix('dsess');
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });

  const Nightly = () => defineJob('NightlyJob', { id: 'nightly', cron: '0 3 * * *' });
  const boot = (guard: object = new OperationsTokenGuard({ token: FULL, readOnlyToken: READ_ONLY })) =>
    startHttpJobsApp(apps, prefix, [Nightly()], { operations: { guard: guard as never, ui: true, path: 'ops' } });

  const signIn = (server: unknown, token: string) =>
    request(server as never)
      .post('/ops/ui/session')
      .set(DASHBOARD_CSRF_HEADER, 'sign-in')
      .send({ token });

  it('exchanges the token for an HttpOnly, SameSite=Strict cookie scoped to <path>/ui that holds no token', async () => {
    const server = (await boot()).getHttpServer();
    const answer = await signIn(server, FULL).expect(200);
    const { pair, attributes } = sessionCookieOf(answer);
    expect(pair).not.toContain(FULL);
    expect(pair.length).toBeGreaterThan(`${DASHBOARD_SESSION_COOKIE}=`.length + 30);
    expect(attributes).toMatch(/(^|; )HttpOnly(;|$)/);
    expect(attributes).toMatch(/(^|; )SameSite=Strict(;|$)/);
    expect(attributes).toMatch(/(^|; )Path=\/ops\/ui(;|$)/);
    expect(attributes).not.toMatch(/Secure/);

    // The page, its settings and the REST routes under <path>/ui/api open with the cookie alone.
    await request(server).get('/ops/ui').set('Cookie', pair).expect(200);
    const config = await request(server).get('/ops/ui/config.json').set('Cookie', pair).expect(200);
    expect(config.body).toMatchObject({ api: '/ops/ui/api', readOnly: false, csrfHeader: DASHBOARD_CSRF_HEADER });
    expect(config.body.states).toEqual([
      'pending',
      'delayed',
      'running',
      'completed',
      'failed',
      'cancelled',
      'skipped',
    ]);
    const recurring = await request(server).get('/ops/ui/api/recurring').set('Cookie', pair).expect(200);
    expect(recurring.body.map((r: { scheduleId: string }) => r.scheduleId)).toEqual(['nightly']);
    // The REST routes outside <path>/ui never take the cookie.
    await request(server).get('/ops/recurring').set('Cookie', pair).expect(401);

    // An action with the cookie needs the session's CSRF value; with it, it acts.
    const withoutCsrf = await request(server).post('/ops/ui/api/recurring/nightly/pause').set('Cookie', pair);
    expect(withoutCsrf.status).toBe(403);
    expect(withoutCsrf.body.message).toBe(DASHBOARD_CSRF_REFUSED);
    await request(server)
      .post('/ops/ui/api/recurring/nightly/pause')
      .set('Cookie', pair)
      .set(DASHBOARD_CSRF_HEADER, 'guessed')
      .expect(403);
    await request(server)
      .post('/ops/ui/api/recurring/nightly/pause')
      .set('Cookie', pair)
      .set(DASHBOARD_CSRF_HEADER, config.body.csrf)
      .expect(200);

    // Sign-out ends the session on the server: the old cookie opens nothing afterwards.
    const out = await request(server)
      .delete('/ops/ui/session')
      .set('Cookie', pair)
      .set(DASHBOARD_CSRF_HEADER, config.body.csrf)
      .expect(200);
    expect(sessionCookieOf(out).attributes).toMatch(/Max-Age=0/);
    await request(server).get('/ops/ui/config.json').set('Cookie', pair).expect(401);
    const page = await request(server).get('/ops/ui').set('Cookie', pair).expect(401);
    expect(page.text).toContain('Your dashboard session has ended');
  });

  it('refuses a sign-in the host guard refuses, one without the CSRF header, and a CSRF header of another session', async () => {
    const server = (await boot()).getHttpServer();
    const refused = await signIn(server, `${FULL}x`).expect(401);
    expect(refused.headers['set-cookie']).toBeUndefined();
    await request(server).post('/ops/ui/session').send({ token: FULL }).expect(403);
    await request(server).post('/ops/ui/session').set(DASHBOARD_CSRF_HEADER, 'x').send({ token: 42 }).expect(400);

    const first = sessionCookieOf(await signIn(server, FULL).expect(200)).pair;
    const second = sessionCookieOf(await signIn(server, FULL).expect(200)).pair;
    const secondCsrf = (await request(server).get('/ops/ui/config.json').set('Cookie', second).expect(200)).body.csrf;
    await request(server)
      .post('/ops/ui/api/recurring/nightly/pause')
      .set('Cookie', first)
      .set(DASHBOARD_CSRF_HEADER, secondCsrf)
      .expect(403);
    // A CSRF header without any session is refused too; a bearer request is as it was.
    await request(server)
      .post('/ops/ui/api/recurring/nightly/pause')
      .set(DASHBOARD_CSRF_HEADER, secondCsrf)
      .expect(403);
    await request(server).post('/ops/recurring/nightly/pause').set('Authorization', `Bearer ${FULL}`).expect(200);
  });

  it('a read-only sign-in reads, is told it is read-only, and gets 403 on every action', async () => {
    const app = await boot();
    const server = app.getHttpServer();
    const pair = sessionCookieOf(await signIn(server, READ_ONLY).expect(200)).pair;
    const config = await request(server).get('/ops/ui/config.json').set('Cookie', pair).expect(200);
    expect(config.body.readOnly).toBe(true);
    const forced = await request(server)
      .post('/ops/ui/api/recurring/nightly/pause')
      .set('Cookie', pair)
      .set(DASHBOARD_CSRF_HEADER, config.body.csrf)
      .expect(403);
    expect(forced.body.message).toBe(OPERATIONS_READ_ONLY_ACTION('POST'));
    expect((await app.get(BackgroundJobs).listRecurring())[0].paused).toBe(false);
  });

  it('the session still goes through the host guard on every request', async () => {
    let open = true;
    @Injectable()
    class SwitchGuard implements CanActivate {
      canActivate(context: ExecutionContext): boolean {
        const header = context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers.authorization;
        if (!open || header !== `Bearer ${FULL}`) throw new ForbiddenException('closed');
        return true;
      }
    }
    const server = (await boot(SwitchGuard)).getHttpServer();
    const pair = sessionCookieOf(await signIn(server, FULL).expect(200)).pair;
    await request(server).get('/ops/ui/api/recurring').set('Cookie', pair).expect(200);
    open = false;
    await request(server).get('/ops/ui/api/recurring').set('Cookie', pair).expect(403);
  });

  it('every answer under <path>/ui, 404s and refusals included, forbids framing, sniffing, caching and referrers', async () => {
    const server = (await boot()).getHttpServer();
    const auth = { Authorization: `Bearer ${FULL}` };
    const answers = [
      await request(server).get('/ops/ui/no-such-page').set(auth).expect(404),
      await request(server).get('/ops/ui/no-such-page').expect(404),
      await request(server).get('/ops/ui/js/other.js').set(auth).expect(404),
      await request(server).get('/ops/ui/api/no-such-route').set(auth).expect(404),
      await request(server).get('/ops/ui').expect(401),
      await request(server).get('/ops/ui/js/app.js').expect(401),
      await request(server).get('/ops/ui').set(auth).expect(200),
      await request(server).get('/ops/ui/config.json').set(auth).expect(200),
      await request(server).get('/ops/recurring').set(auth).expect(200),
      await request(server).get('/ops/executions').set(auth).expect(200),
      await request(server).get('/ops/executions/nope').set(auth).expect(404),
    ];
    for (const answer of answers) {
      const where = `${(answer as unknown as { req: { method: string; path: string } }).req.method} ${(answer as unknown as { req: { path: string } }).req.path} → ${answer.status}`;
      expect([where, answer.headers['content-security-policy']]).toEqual([
        where,
        expect.stringContaining("frame-ancestors 'none'"),
      ]);
      expect([where, answer.headers['x-content-type-options']]).toEqual([where, 'nosniff']);
      expect([where, answer.headers['referrer-policy']]).toEqual([where, 'no-referrer']);
      expect([where, answer.headers['cache-control']]).toEqual([where, 'no-store']);
    }
  });

  it('fills the pages without String.replace patterns: $& and $` in a guard message or the path stay text', async () => {
    @Injectable()
    class EchoGuard implements CanActivate {
      canActivate(): boolean {
        throw new ForbiddenException("refused $` and $& and $'");
      }
    }
    const server = (await boot(EchoGuard)).getHttpServer();
    const page = await request(server).get('/ops/ui').set('Authorization', 'Bearer x').expect(403);
    expect(page.text).toContain('The token was refused (403): refused $` and $&#38; and $&#39;');
    expect(page.text.match(/<!doctype html>/gi)).toHaveLength(1);
  });

  it('an absolute-form request line cannot set the host of the page scripts', async () => {
    const server = (await boot()).getHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const net = await import('node:net');
    const text = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write(
          `GET http://evil.example/ops/ui HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${FULL}\r\nConnection: close\r\n\r\n`,
        ),
      );
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text).toContain('<script src="/ops/ui/js/app.js" defer></script>');
    expect(text).not.toContain('evil.example');
  });
});
