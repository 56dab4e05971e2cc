#!/usr/bin/env bash
# Installs the extension's npm dependencies (when package-lock.json changed), bundles it with
# esbuild and packages dist/crowd-bridge.vsix (when a source changed). Fast on re-run.
# Optional argument: a folder to copy the .vsix into (the Python package's data folder).
set -euo pipefail
cd "$(dirname "$0")/.."
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
stamp=node_modules/.crowd-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "editor-bridge: installing npm dependencies"
  npm ci --no-audit --no-fund >/dev/null
  echo "$want" > "$stamp"
fi
vsix=dist/crowd-bridge.vsix
# the Python wheels the extension provisions its own sidecar from (scripts/bundle-python.sh),
# rebuilt when the Python sources changed
if [ ! -f python/manifest.json ] || [ -n "$(find ../pyproject.toml ../common ../serializer ../server ../cli -name '*.py' -newer python/manifest.json -print -quit 2>/dev/null)" ]; then
  bash scripts/bundle-python.sh
fi
if [ ! -f "$vsix" ] || [ -n "$(find src media python package.json esbuild.mjs README.md CHANGELOG.md ../LICENSE -newer "$vsix" -print -quit)" ]; then
  echo "editor-bridge: building $vsix"
  npm run -s package >/dev/null
fi
if [ $# -ge 1 ]; then
  mkdir -p "$1"
  cmp -s "$vsix" "$1/crowd-bridge.vsix" || cp "$vsix" "$1/crowd-bridge.vsix"
fi
