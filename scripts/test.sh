#!/usr/bin/env bash
# Runs the whole test suite (Python and TypeScript) after making sure everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
status=0
# Tests drive real X servers, browsers, PTYs and git on a 2-core machine; a test that fails is
# run once more and reported as RERUN in the summary, so scheduling noise cannot sink a run
# while a real failure (failing twice) still fails it.
.venv/bin/python -m pytest -q -rfEsR --reruns 1 --reruns-delay 2 --durations=20 tests "$@" || status=$?
if [ -f editor-bridge/package.json ]; then
  (cd editor-bridge && npm test) || status=$?
fi
exit $status
