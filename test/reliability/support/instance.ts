import { resolve } from 'node:path';
import { AppProcess, removeAppBuild } from '../../support/app-process';
import type { Command, InstanceConfig } from '../fixtures/instance';

const FIXTURE = resolve(__dirname, '../fixtures/instance.ts');

/** Removes the transpiled fixture (call in afterAll). */
export function removeCompiledFixture(): void {
  removeAppBuild();
}

type Request = Command extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

/**
 * An app instance in its own Node process (test/support/app-process.ts), driven over IPC: `send` a command of
 * test/reliability/fixtures/instance.ts, await its answer. Every one spawned is killed by `killAll()` (afterEach).
 */
export class AppInstance {
  private static nextCommand = 1;
  private readonly process: AppProcess;
  private readonly pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  private bootMs?: number;
  private readyResolve!: (bootMs: number) => void;
  private readyReject!: (error: Error) => void;
  readonly ready: Promise<number>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;

  private constructor(
    readonly config: InstanceConfig,
    fixture = FIXTURE,
  ) {
    this.ready = new Promise<number>((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    this.ready.catch(() => undefined);
    this.process = AppProcess.spawn(fixture, {
      env: { ...process.env, RELIABILITY_CONFIG: JSON.stringify(config) },
      ipc: true,
      name: config.name,
    });
    this.process.child.on(
      'message',
      (message: { ready?: boolean; bootMs?: number; id?: number; result?: unknown; error?: string }) => {
        if (message.ready) {
          this.bootMs = message.bootMs;
          this.readyResolve(message.bootMs as number);
          return;
        }
        const waiter = this.pending.get(message.id as number);
        this.pending.delete(message.id as number);
        if (message.error !== undefined) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.result);
      },
    );
    this.exited = this.process.exited.then((exit) => {
      const error = new Error(
        `instance ${config.name} exited (code ${exit.code}, signal ${exit.signal}) before answering:\n${this.output.slice(-2000)}`,
      );
      this.readyReject(error);
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
      return exit;
    });
  }

  /**
   * Spawns an instance; await `ready` (resolves with its boot time in ms, rejects if it exits first). `fixture`
   * (an absolute path to a .ts app that reads RELIABILITY_CONFIG and speaks the same IPC) replaces the default app.
   */
  static spawn(config: InstanceConfig, fixture?: string): AppInstance {
    return new AppInstance(config, fixture);
  }

  /** stdout and stderr, for the failure message of a test and for assertions on boot errors. */
  get output(): string {
    return this.process.output;
  }

  get stderr(): string {
    return this.process.stderr;
  }

  /** When the first stderr output arrived (e.g. a boot error line). */
  get firstStderrAt(): number | undefined {
    return this.process.firstStderrAt;
  }

  get pid(): number {
    return this.process.pid;
  }

  get name(): string {
    return this.config.name;
  }

  get startupMs(): number | undefined {
    return this.bootMs;
  }

  get running(): boolean {
    return this.process.running;
  }

  send<T = unknown>(request: Request): Promise<T> {
    const id = AppInstance.nextCommand++;
    const child = this.process.child;
    return new Promise<T>((resolve, reject) => {
      if (!this.running || !child.connected) return reject(new Error(`instance ${this.name} is not running`));
      this.pending.set(id, { resolve, reject });
      child.send({ ...request, id }, (error) => {
        if (!error) return;
        this.pending.delete(id);
        reject(error);
      });
    });
  }

  kill(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }

  /** SIGKILLs every app process still alive (instances and any other) and waits for them to exit. */
  static async killAll(): Promise<void> {
    await AppProcess.killAll();
  }
}
