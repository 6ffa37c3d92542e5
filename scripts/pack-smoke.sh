#!/usr/bin/env bash
# Packs the library with `npm pack`, installs the tarball and its peers from the npm registry into a throw-away
# Nest app outside the monorepo, compiles that app with its own TypeScript, boots it against a redis-server this
# script starts on a free port, and runs one @PipelineJob with BackgroundJobs.runNow. Exit 0 only if it completed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LIB="$ROOT/libs/background-jobs"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bgj-pack-smoke.XXXXXX")"
REDIS_PID=""
cleanup() {
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
case "$WORK" in "$ROOT"/*) echo "pack-smoke: the temp dir must be outside the monorepo"; exit 1 ;; esac

echo "== pack-smoke: build and pack the library"
(cd "$ROOT" && npm run --silent build:lib)
# Every package the built code requires must be declared, or a fresh install breaks at require time.
node - "$LIB" <<'NODE'
const fs = require('node:fs'); const path = require('node:path'); const { builtinModules } = require('node:module');
const lib = process.argv[2]; const pkg = require(path.join(lib, 'package.json'));
const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
const missing = new Set();
const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).forEach((e) => {
  const p = path.join(dir, e.name);
  if (e.isDirectory()) return walk(p);
  if (!e.name.endsWith('.js')) return;
  for (const [, spec] of fs.readFileSync(p, 'utf8').matchAll(/require\("([^".][^"]*)"\)/g)) {
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
    if (!spec.startsWith('node:') && !builtinModules.includes(name) && !declared.has(name)) missing.add(`${name} (in ${path.relative(lib, p)})`);
  }
});
walk(path.join(lib, 'dist'));
if (missing.size) { console.error(`pack-smoke: required but not declared in libs/background-jobs/package.json: ${[...missing].join(', ')}`); process.exit(1); }
NODE
TARBALL="$(cd "$LIB" && npm pack --silent --pack-destination "$WORK" 2>/dev/null | tail -1)"
echo "   $TARBALL ($(tar -tzf "$WORK/$TARBALL" | wc -l) files)"

echo "== pack-smoke: a fresh Nest app in $WORK/app"
mkdir -p "$WORK/app/src"
cd "$WORK/app"
node -e '
  const lib = require(process.argv[1]);
  const peers = Object.keys(lib.peerDependencies);
  const pkg = { name: "bgj-pack-smoke-app", version: "0.0.0", private: true, dependencies: {}, devDependencies: { typescript: "~5.9.3", "@types/node": "^20.19.0" } };
  pkg.dependencies["nestjs-background-jobs"] = "file:" + process.argv[2];
  for (const p of peers) pkg.dependencies[p] = lib.peerDependencies[p];
  require("fs").writeFileSync("package.json", JSON.stringify(pkg, null, 2));
' "$LIB/package.json" "$WORK/$TARBALL"
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "module": "commonjs", "target": "ES2022", "strict": true, "experimentalDecorators": true,
  "emitDecoratorMetadata": true, "outDir": "dist", "skipLibCheck": false, "types": ["node"] }, "include": ["src"] }
JSON
cat > src/main.ts <<'TS'
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BackgroundJob, BackgroundJobs, BackgroundJobsModule, JobContext, PipelineJob } from 'nestjs-background-jobs';

@Injectable()
class Greeter {
  greet(name: string): string {
    return `hello ${name}`;
  }
}

@PipelineJob({ id: 'pack-smoke-greet', cron: '0 3 * * *' })
class GreetJob implements BackgroundJob<{ name: string }, string> {
  constructor(private readonly greeter: Greeter) {}
  execute(ctx: JobContext<{ name: string }>): string {
    return this.greeter.greet(ctx.data.name);
  }
}

@Module({
  imports: [BackgroundJobsModule.forRoot({ transport: { type: 'bullmq', connection: { url: process.env.REDIS_URL! }, prefix: 'smoke' } })],
  providers: [Greeter, GreetJob],
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  try {
    const jobs = app.get(BackgroundJobs);
    const execution = await jobs.runNow<{ name: string }, string>(GreetJob, { data: { name: 'packed app' }, waitTimeoutMs: 20_000 });
    const recurring = await jobs.listRecurring();
    console.log(`runNow: ${execution.state} ${JSON.stringify(execution.result)}; recurring: ${recurring.map((r) => r.jobId).join(',')}`);
    if (execution.state !== 'completed' || execution.result !== 'hello packed app') throw new Error(`expected completed 'hello packed app'`);
    if (!recurring.some((r) => r.jobId === 'pack-smoke-greet')) throw new Error('expected the recurring job to be listed');
  } finally {
    await app.close();
  }
}

main().then(
  () => console.log('pack-smoke: completed'),
  (error: Error) => {
    console.error(`pack-smoke: FAILED: ${error.message}`);
    process.exit(1);
  },
);
TS
echo "== pack-smoke: npm install (tarball + peers from the registry)"
npm install --no-audit --no-fund --loglevel=error >"$WORK/npm-install.log" 2>&1 || { tail -30 "$WORK/npm-install.log"; exit 1; }
echo "   installed nestjs-background-jobs@$(node -p 'require("nestjs-background-jobs/package.json").version') with @nestjs/core@$(node -p 'require("@nestjs/core/package.json").version'), bullmq@$(node -p 'require("bullmq/package.json").version'), nestjs-cls@$(node -p 'require("nestjs-cls/package.json").version')"
[ -e node_modules/nestjs-background-jobs/dist/index.d.ts ] || { echo "pack-smoke: the tarball has no dist/index.d.ts"; exit 1; }
npx --no-install tsc -p tsconfig.json

echo "== pack-smoke: redis-server on a free port"
PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 1 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$PORT" ping >/dev/null || { cat "$WORK/redis.log"; echo "pack-smoke: redis-server did not start"; exit 1; }

echo "== pack-smoke: boot the app and run the job"
REDIS_URL="redis://127.0.0.1:$PORT" timeout 60 node dist/main.js
