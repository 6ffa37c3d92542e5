import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import IORedis, { RedisOptions } from 'ioredis';
import { freePort, isAddressInUse, releasePort } from './ports';
import { PortTakenError, START_ATTEMPTS, TestRedisServer } from './redis-server';

/** The arguments of a process, or a function of its port (which may reserve more ports: a cluster bus). */
export type RedisArgs = string[] | ((port: number) => Promise<string[]> | string[]);

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
   * `.redis-test/`. Without `options.port`, a port that turns out to be taken (by the server's port or one its
   * `args` reserved) is given up and the start is tried again on new ones. `appendOnly` turns the AOF on with an
   * fsync per write, so a SIGKILLed server started again on the same port loads every acknowledged write from it.
   */
  static async start(
    args: RedisArgs,
    options: { port?: number; tls?: RedisOptions['tls']; appendOnly?: boolean } = {},
  ): Promise<RedisProcess> {
    TestRedisServer.assertInstalled();
    for (let attempt = 1; ; attempt++) {
      const port = options.port ?? (await freePort());
      try {
        const resolved = typeof args === 'function' ? await args(port) : args;
        return await RedisProcess.startOn(port, resolved, options.tls, options.appendOnly ?? false);
      } catch (error) {
        if (!(error instanceof PortTakenError) || options.port !== undefined || attempt >= START_ATTEMPTS) throw error;
      }
    }
  }

  private static async startOn(
    port: number,
    args: string[],
    tls: RedisOptions['tls'],
    appendOnly: boolean,
  ): Promise<RedisProcess> {
    const dir = join(process.cwd(), '.redis-test', `topology-${port}`);
    mkdirSync(dir, { recursive: true });
    // NOTE: a TLS server listens on --tls-port only (--port 0), so nothing reaches it in clear text.
    const listen = tls ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)];
    const child = spawn(
      'redis-server',
      [
        ...args,
        ...listen,
        ...['--bind', '127.0.0.1', '--dir', dir, '--save', ''],
        ...(appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
      ],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2_000)));
    const started = new RedisProcess(port, dir, child);
    const deadline = Date.now() + 10_000;
    // NOTE: not waitFor: a process that exited (a taken port) ends the wait at once.
    while (!(await started.ping(tls).catch(() => false))) {
      const problem = !started.running ? 'exited' : Date.now() > deadline ? 'did not answer PING within 10 s' : '';
      if (problem) {
        await started.kill();
        if (isAddressInUse(output)) throw new PortTakenError(port);
        const tail = output.trim().split('\n').slice(-3).join(' | ');
        throw new Error(`redis-server on port ${port} ${problem}; its output ended with: ${tail}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return started;
  }

  /** Kills it, removes its directory and gives its port back. */
  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
    releasePort(this.port);
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
