#!/usr/bin/env bash
# The editor bridge's part of scripts/setup.sh (idempotent, seconds on re-run):
# build + package the extension, put the .vsix where `crowd install-extension` finds it in
# the installed Python package, and install code-server + playwright-core for the
# end-to-end test into the git-ignored .tools/ folder.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
ROOT=$(cd "$HERE/.." && pwd)
bash "$HERE/scripts/build.sh" "$ROOT/server/crowd/server/extension_vsix"
bash "$HERE/scripts/install-code-server.sh" "$ROOT/.tools/code-server"
