import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import IORedis, { RedisOptions } from 'ioredis';
import { waitFor } from './redis';
import { freePort, TestRedisServer } from './redis-server';

/** One redis-server (or sentinel) process started by a topology helper; killed by `kill()`. */
export class RedisProcess {
  private constructor(
    readonly port: number,
    readonly dir: string,
    private child: ChildProcess | undefined,
  ) {}

  /**
   * Starts `redis-server` with `args` (the port and directory are added) and resolves once it answers PING
   * through `clientOptions` (TLS options for a TLS-only server). Each process gets its own directory under
   * `.redis-test/`. `appendOnly` turns the AOF on with an fsync per write, so a SIGKILLed server started again on
   * the same port loads every acknowledged write from it.
   */
  static async start(
    args: string[],
    options: { port?: number; tls?: RedisOptions['tls']; appendOnly?: boolean } = {},
  ): Promise<RedisProcess> {
    TestRedisServer.assertInstalled();
    const port = options.port ?? (await freePort());
    const dir = join(process.cwd(), '.redis-test', `topology-${port}`);
    mkdirSync(dir, { recursive: true });
    // NOTE: a TLS server listens on --tls-port only (--port 0), so nothing reaches it in clear text.
    const listen = options.tls ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)];
    const child = spawn(
      'redis-server',
      [
        ...args,
        ...listen,
        ...['--bind', '127.0.0.1', '--dir', dir, '--save', ''],
        ...(options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
      ],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2_000)));
    const started = new RedisProcess(port, dir, child);
    try {
      await waitFor(`redis-server on port ${port} to answer PING`, () => started.ping(options.tls), 10_000, 50);
    } catch (error) {
      await started.kill();
      throw new Error(
        `${(error as Error).message}; its output ended with: ${output.trim().split('\n').slice(-3).join(' | ')}`,
      );
    }
    return started;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL, as a crashed node or a lost machine: no shutdown, no save. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  private async ping(tls?: RedisOptions['tls']): Promise<boolean> {
    if (!this.running) throw new Error(`redis-server on port ${this.port} exited`);
    return (await commandOn(this.port, ['PING'], { tls })) === 'PONG';
  }
}

/** Throws one line naming the missing binary and the package that has it. */
export function assertBinary(binary: string, aptPackage: string, versionArgs = ['--version']): void {
  try {
    execFileSync(binary, versionArgs, { stdio: 'ignore' });
  } catch {
    throw new Error(`${binary} is not installed: run \`apt-get install -y ${aptPackage}\` (Debian/Ubuntu).`);
  }
}

/** Runs one command on the node at `port` over a short-lived connection. */
export async function commandOn(port: number, args: string[], clientOptions: RedisOptions = {}): Promise<unknown> {
  const client = new IORedis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    ...clientOptions,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(args[0], ...args.slice(1));
  } finally {
    client.disconnect();
  }
}
