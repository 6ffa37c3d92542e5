import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assertBinary, RedisProcess } from './redis-process';

/**
 * A TLS-only standalone Redis (`--port 0 --tls-port`) with a self-signed certificate for 127.0.0.1 made here
 * with the openssl CLI. `ca` is what a client passes as `tls: { ca }`.
 */
export class TestTlsRedis {
  private constructor(
    private readonly server: RedisProcess,
    private readonly certDir: string,
    readonly ca: string,
  ) {}

  get port(): number {
    return this.server.port;
  }

  /** `rediss://` URL of the server (the client still needs `tls: { ca }`: the certificate is self-signed). */
  get url(): string {
    return `rediss://127.0.0.1:${this.port}`;
  }

  static async create(): Promise<TestTlsRedis> {
    assertBinary('openssl', 'openssl', ['version']);
    const certDir = mkdtempSync(join(process.cwd(), '.redis-test', 'tls-'));
    const cert = join(certDir, 'cert.pem');
    const key = join(certDir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    const ca = readFileSync(cert, 'utf8');
    try {
      const server = await RedisProcess.start(
        [
          '--tls-cert-file',
          cert,
          '--tls-key-file',
          key,
          '--tls-ca-cert-file',
          cert,
          '--tls-auth-clients',
          'no',
          '--maxmemory-policy',
          'noeviction',
        ],
        { tls: { ca } },
      );
      return new TestTlsRedis(server, certDir, ca);
    } catch (error) {
      rmSync(certDir, { recursive: true, force: true });
      throw new Error(
        `${(error as Error).message}. If this redis-server was built without TLS, TLS cases cannot run here; ` +
          'Debian/Ubuntu: `apt-get install -y redis-server` (built with TLS since Redis 6).',
      );
    }
  }

  async destroy(): Promise<void> {
    await this.server.destroy();
    rmSync(this.certDir, { recursive: true, force: true });
  }
}
