#!/usr/bin/env bash
# Runs the whole test suite (Python and TypeScript) after making sure everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
status=0
.venv/bin/python -m pytest -q -rfEs --durations=20 tests "$@" || status=$?
if [ -f editor-bridge/package.json ]; then
  (cd editor-bridge && npm test) || status=$?
fi
exit $status
