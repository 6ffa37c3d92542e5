import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { freePort, isAddressInUse, releasePort } from './ports';

export { freePort } from './ports';

/** Start-up attempts on a new port when the chosen one turns out to be taken. */
export const START_ATTEMPTS = 5;

/** A redis-server process owned by the tests: it can be stopped, wiped and restarted on the same port. */
export class TestRedisServer {
  private process?: ChildProcess;

  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static assertInstalled(): void {
    try {
      execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(
        'redis-server is not installed: run `apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS).',
      );
    }
  }

  static async create(): Promise<TestRedisServer> {
    TestRedisServer.assertInstalled();
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const dir = join(process.cwd(), '.redis-test', String(port));
      mkdirSync(dir, { recursive: true });
      const server = new TestRedisServer(port, dir);
      try {
        await server.start();
        return server;
      } catch (error) {
        rmSync(dir, { recursive: true, force: true });
        // NOTE: the port stays handed out (a listener outside the test port scheme holds it); the next is tried.
        if (!(error instanceof PortTakenError) || attempt >= START_ATTEMPTS) throw error;
      }
    }
  }

  /** Starts the process on its port; throws `PortTakenError` when the port is taken. */
  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'], detached: false },
    );
    this.process = child;
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2_000)));
    const deadline = Date.now() + 10_000;
    while (!(await ping(this.port))) {
      if (!this.running) {
        this.process = undefined;
        if (isAddressInUse(output)) throw new PortTakenError(this.port);
        throw new Error(`redis-server on port ${this.port} exited: ${output.trim().split('\n').slice(-3).join(' | ')}`);
      }
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not start within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.process;
    // NOTE: `running`, not exitCode alone: a server killed by a signal has no exit code, and its 'exit' has fired.
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.process = undefined;
    // NOTE: a stop loses the data (the next start is empty), even after a stopKeepingData() left an RDB behind.
    rmSync(join(this.dir, 'dump.rdb'), { force: true });
  }

  /** Stops it for good and removes its data directory. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
    releasePort(this.port);
  }

  /** Stops it the way a persistent Redis restarts: SHUTDOWN SAVE writes an RDB that the next start() loads. */
  async stopKeepingData(): Promise<void> {
    const child = this.process;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve) => {
      const socket = new Socket();
      socket.once('error', () => resolve());
      socket.once('close', () => resolve());
      socket.connect(this.port, '127.0.0.1', () => socket.write('SHUTDOWN SAVE\r\n'));
    });
    await exited;
    this.process = undefined;
  }

  /** Whether the server process is up (it may still be loading). */
  get running(): boolean {
    return !!this.process && this.process.exitCode === null && this.process.signalCode === null;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }
}

/** A server could not bind its port: another listener holds it. */
export class PortTakenError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is taken by another listener`);
    this.name = 'PortTakenError';
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
