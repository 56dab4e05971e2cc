#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3, the newest release that runs on Node 20) and
# playwright-core into a git-ignored folder, offline-safe: a plain `npm install code-server`
# tries to download ripgrep from GitHub and runs postinstalls that fail as root, so the
# install is done in steps (see ../../docs/editor-bridge.md). Idempotent: a finished install
# leaves a stamp file and a re-run returns at once.
set -euo pipefail
DEST="${1:-$(cd "$(dirname "$0")/../.." && pwd)/.tools/code-server}"
VERSION=4.100.3
PLAYWRIGHT=1.57.0
STAMP="$DEST/.installed-$VERSION-pw$PLAYWRIGHT"
[ -f "$STAMP" ] && exit 0
mkdir -p "$DEST"
cd "$DEST"
# Dependencies pinned in a package.json of their own so later npm runs never prune them.
cat > package.json <<JSON
{"name": "crowd-code-server-tools", "private": true,
 "dependencies": {"code-server": "$VERSION", "playwright-core": "$PLAYWRIGHT"}}
JSON
export npm_config_unsafe_perm=true npm_config_yes=true npm_config_fund=false npm_config_audit=false
echo "setup: installing code-server $VERSION into $DEST (about a minute)"
npm install --ignore-scripts >/dev/null
npm rebuild argon2 >/dev/null
cd node_modules/code-server/lib/vscode
npm install --omit=dev --ignore-scripts >/dev/null
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
npm rebuild >/dev/null
cd ../..
npm_config_user_agent="npm/$(npm -v) node/$(node -v) linux x64" sh ./postinstall.sh >/dev/null
cd "$DEST"
node_modules/.bin/code-server --version >/dev/null
touch "$STAMP"
echo "setup: code-server $VERSION ready"
