import { ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';
import type { Command, InstanceConfig } from '../fixtures/instance';

const ROOT = resolve(__dirname, '../../..');
const LIBRARY = join(ROOT, 'libs/background-jobs/src');
const FIXTURE = resolve(__dirname, '../fixtures/instance.ts');

let build: { dir: string; entry: string; fixture: string } | undefined;

/**
 * Transpiles the library and the fixture to plain JS once per test file (under .redis-test/, git-ignored, inside
 * the repo so node_modules resolves). A spawned instance then boots in ~1 s instead of ~3 s under ts-node.
 * `fixture` is the app an instance runs: the reliability suite's by default, the chaos soak's own (test/chaos).
 */
function compiled(fixture = FIXTURE): { dir: string; entry: string } {
  if (build?.fixture === fixture) return build;
  if (build) removeCompiledFixture();
  const dir = join(ROOT, '.redis-test', `reliability-build-${process.pid}`);
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    esModuleInterop: true,
  };
  const emit = (source: string, target: string, rewrite = (js: string) => js) => {
    const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
      compilerOptions: options,
      fileName: source,
    });
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, rewrite(outputText));
  };
  const walk = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? walk(join(folder, entry.name))
        : entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')
          ? [join(folder, entry.name)]
          : [],
    );
  for (const file of walk(LIBRARY)) emit(file, join(dir, 'lib', relative(LIBRARY, file)).replace(/\.ts$/, '.js'));
  // NOTE: the Lua scripts are loaded from files beside the compiled modules.
  const scripts = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? scripts(join(folder, entry.name))
        : entry.name.endsWith('.lua')
          ? [join(folder, entry.name)]
          : [],
    );
  for (const file of scripts(LIBRARY)) {
    const target = join(dir, 'lib', relative(LIBRARY, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
  const entry = join(dir, 'fixtures', 'instance.js');
  emit(fixture, entry, (js) => js.replace(/require\("nestjs-background-jobs"\)/g, 'require("../lib")'));
  build = { dir, entry, fixture };
  return build;
}

/** Removes the transpiled fixture (call in afterAll). */
export function removeCompiledFixture(): void {
  if (build) rmSync(build.dir, { recursive: true, force: true });
  build = undefined;
}

type Request = Command extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

/** An app instance in its own Node process; every one spawned is killed by `killAll()` (call it in afterEach). */
export class AppInstance {
  private static readonly live = new Set<AppInstance>();
  private static nextCommand = 1;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** stdout and stderr, for the failure message of a test and for assertions on boot errors. */
  output = '';
  stderr = '';
  /** When the first stderr output arrived (e.g. a boot error line). */
  firstStderrAt?: number;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  private bootMs?: number;
  private readyResolve!: (bootMs: number) => void;
  private readyReject!: (error: Error) => void;
  readonly ready: Promise<number>;

  private constructor(
    readonly config: InstanceConfig,
    fixture?: string,
  ) {
    this.ready = new Promise<number>((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    this.ready.catch(() => undefined);
    this.child = spawn(process.execPath, [compiled(fixture).entry], {
      cwd: ROOT,
      env: { ...process.env, RELIABILITY_CONFIG: JSON.stringify(config), FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    // NOTE: a spawn or IPC error must fail the test that caused it, not crash the Jest process.
    this.child.on('error', (error) => {
      this.output += `\n[spawn/IPC error] ${error.message}\n`;
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.firstStderrAt ??= Date.now();
      this.output += chunk.toString();
      this.stderr += chunk.toString();
    });
    this.child.on(
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
    let exitedAt = 0;
    this.child.once('exit', () => (exitedAt = Date.now()));
    // NOTE: 'close' rather than 'exit': it comes after stdout and stderr are drained, so `output` is complete.
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        AppInstance.live.delete(this);
        const error = new Error(
          `instance ${config.name} exited (code ${code}, signal ${signal}) before answering:\n${this.output.slice(-2000)}`,
        );
        this.readyReject(error);
        for (const waiter of this.pending.values()) waiter.reject(error);
        this.pending.clear();
        resolve({ code, signal, at: exitedAt || Date.now() });
      });
    });
    AppInstance.live.add(this);
  }

  /**
   * Spawns an instance; await `ready` (resolves with its boot time in ms, rejects if it exits first). `fixture`
   * (an absolute path to a .ts app that reads RELIABILITY_CONFIG and speaks the same IPC) replaces the default app.
   */
  static spawn(config: InstanceConfig, fixture?: string): AppInstance {
    return new AppInstance(config, fixture);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get name(): string {
    return this.config.name;
  }

  get startupMs(): number | undefined {
    return this.bootMs;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  send<T = unknown>(request: Request): Promise<T> {
    const id = AppInstance.nextCommand++;
    return new Promise<T>((resolve, reject) => {
      if (!this.running || !this.child.connected) return reject(new Error(`instance ${this.name} is not running`));
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...request, id }, (error) => {
        if (!error) return;
        this.pending.delete(id);
        reject(error);
      });
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGKILLs every instance still alive and waits for them to exit. */
  static async killAll(): Promise<void> {
    const all = [...AppInstance.live];
    for (const instance of all) instance.kill('SIGKILL');
    await Promise.all(all.map((instance) => instance.exited));
  }
}
