#!/usr/bin/env bash
# Rewrites package-lock.json and .ci/nest12/package-lock.json from their package.json so that `npm ci` accepts them
# on a clean machine of any platform. Run it after changing either package.json (CI runs `npm ci`, never install).
# NOTE: resolving in a copy without node_modules (`--package-lock-only`) records every platform's optional packages
# (@unrs/resolver-binding-*, @msgpackr-extract/*) whatever this machine installed, and keeps the versions the old
# lock file pinned. main's lock file had lost the non-Linux ones, and `npm ci` refused it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
for dir in "$ROOT" "$ROOT/.ci/nest12"; do
  tmp="$(mktemp -d)"
  cp "$dir/package.json" "$tmp/"
  [ -f "$dir/package-lock.json" ] && cp "$dir/package-lock.json" "$tmp/"
  (cd "$tmp" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$tmp/package-lock.json" "$dir/package-lock.json"
  rm -rf "$tmp"
  echo "lock:update: ${dir#"$ROOT"}/package-lock.json ($(grep -c '"node_modules/' "$dir/package-lock.json") packages)"
done
