import { ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

/**
 * The one way the suites run an app in a process of its own (test/reliability, test/sample-app, test/chaos): the
 * entry file and every repository file it imports are transpiled to plain JavaScript once per test process, under
 * .redis-test/ (git-ignored, inside the repository so node_modules resolves), in the repository's own layout, so
 * relative imports and the library's files beside its modules (Lua scripts, ui/, package.json) need no rewriting.
 * `nestjs-background-jobs` resolves to the transpiled library as tsconfig.json's `paths` say, through a resolver the
 * child loads first. A child boots in ~1 s instead of ~3 s under ts-node, which the reliability bounds rely on.
 */

const ROOT = resolve(__dirname, '../..');
const LIBRARY = join(ROOT, 'libs/background-jobs');
const PACKAGE = 'nestjs-background-jobs';

const COMPILER_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
};

let build: { dir: string; done: Set<string> } | undefined;

/** The transpiled build of this test process, made on first use. */
function buildDir(): { dir: string; done: Set<string> } {
  if (build) return build;
  const dir = join(ROOT, '.redis-test', `app-build-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  // NOTE: the library's files that are not TypeScript are read beside its modules at run time: copy them all.
  const copyAssets = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) copyAssets(path);
      else if (!entry.name.endsWith('.ts')) {
        const target = join(dir, relative(ROOT, path));
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(path, target);
      }
    }
  };
  copyAssets(join(LIBRARY, 'src'));
  mkdirSync(join(dir, relative(ROOT, LIBRARY)), { recursive: true });
  copyFileSync(join(LIBRARY, 'package.json'), join(dir, relative(ROOT, LIBRARY), 'package.json'));
  const library = join(dir, relative(ROOT, LIBRARY), 'src');
  writeFileSync(
    join(dir, 'resolve-package.js'),
    `// Written by test/support/app-process.ts: '${PACKAGE}' and '${PACKAGE}/<path>' resolve to the transpiled library.
const Module = require('node:module');
const original = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === '${PACKAGE}' || request.startsWith('${PACKAGE}/'))
    request = ${JSON.stringify(library)} + request.slice(${PACKAGE.length});
  return original.call(this, request, ...rest);
};
`,
  );
  build = { dir, done: new Set() };
  return build;
}

/** The repository file a specifier in `from` names, or undefined for a package other than the library. */
function sourceOf(specifier: string, from: string): string | undefined {
  let base: string;
  if (specifier === PACKAGE || specifier.startsWith(`${PACKAGE}/`))
    base = join(LIBRARY, 'src', specifier.slice(PACKAGE.length));
  else if (specifier.startsWith('.')) base = resolve(dirname(from), specifier);
  else return undefined;
  return [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
}

/** Transpiles `entry` and every repository file it imports (once each); returns the entry's JavaScript path. */
export function compiledEntry(entry: string): string {
  const { dir, done } = buildDir();
  const pending = [resolve(entry)];
  while (pending.length > 0) {
    const source = pending.pop() as string;
    if (done.has(source)) continue;
    done.add(source);
    const text = readFileSync(source, 'utf8');
    const { outputText } = ts.transpileModule(text, { compilerOptions: COMPILER_OPTIONS, fileName: source });
    const target = join(dir, relative(ROOT, source)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
    for (const { fileName } of ts.preProcessFile(text, true, false).importedFiles) {
      const imported = sourceOf(fileName, source);
      if (imported && !done.has(imported)) pending.push(imported);
    }
  }
  return join(dir, relative(ROOT, resolve(entry))).replace(/\.ts$/, '.js');
}

/** Removes this test process's build (call in afterAll of a file that spawned app processes). */
export function removeAppBuild(): void {
  if (build) rmSync(build.dir, { recursive: true, force: true });
  build = undefined;
}

export interface AppProcessOptions {
  /** The child's environment. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** An IPC channel beside stdio (for `send` and 'message'). @default false */
  ipc?: boolean;
  /** A writable stdin (for `write`). @default false */
  stdin?: boolean;
  /** Names the process in errors. @default the entry's file name */
  name?: string;
}

/** An app in its own Node process; every one spawned is killed by `AppProcess.killAll()` (call it in afterEach). */
export class AppProcess {
  private static readonly live = new Set<AppProcess>();
  readonly child: ChildProcess;
  readonly name: string;
  /** stdout and stderr, in arrival order. */
  output = '';
  stderr = '';
  /** When the first stderr output arrived (e.g. a boot error line). */
  firstStderrAt?: number;
  /** Resolves once the process exited and its stdout and stderr are drained, with when it exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;

  private constructor(entry: string, options: AppProcessOptions) {
    this.name = options.name ?? entry.split('/').pop()!;
    const { dir } = buildDir();
    this.child = spawn(process.execPath, ['-r', join(dir, 'resolve-package.js'), compiledEntry(entry)], {
      cwd: ROOT,
      env: { ...(options.env ?? process.env), FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(options.ipc ? ['ipc' as const] : [])],
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
    let exitedAt = 0;
    this.child.once('exit', () => (exitedAt = Date.now()));
    // NOTE: 'close' rather than 'exit': it comes after stdout and stderr are drained, so `output` is complete.
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        AppProcess.live.delete(this);
        resolve({ code, signal, at: exitedAt || Date.now() });
      });
    });
    AppProcess.live.add(this);
  }

  /** Spawns `entry` (a .ts file of the repository) in a Node process of its own. */
  static spawn(entry: string, options: AppProcessOptions = {}): AppProcess {
    return new AppProcess(entry, options);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Writes to the child's stdin (spawned with `stdin: true`). */
  write(text: string): void {
    this.child.stdin?.write(text);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGKILLs every app process still alive and waits for each to exit. */
  static async killAll(): Promise<void> {
    const all = [...AppProcess.live];
    for (const instance of all) instance.kill('SIGKILL');
    await Promise.all(all.map((instance) => instance.exited));
  }
}
