#!/usr/bin/env bash
# Installs everything crowd needs on a fresh Debian 12 machine, idempotently:
# system packages (virtual X server, tmux, Chromium, build tools for code-server),
# the Python environment .venv with every extra, and the editor bridge's Node toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  xvfb xdotool openbox x11-utils trayer   # desktop capture under a virtual screen
  tmux                                    # terminal fidelity oracle
  vim less procps                         # terminal fidelity corpus: real programs (vim, less, top)
  htop nano emacs-nox man-db mc tig w3m   # terminal fidelity corpus: more real programs (issue 15)
  git                                     # attribution scenarios
  iproute2 util-linux                     # Ray tests: a private network namespace (ip, unshare)
  chromium                                # HTML replay + VS Code extension host tests
  build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep  # code-server
)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "setup: installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
export PIP_DISABLE_PIP_VERSION_CHECK=1
# torch first and pinned: 2.13.0 is the CPU wheel on disk; anything else pulls GBs of CUDA.
.venv/bin/pip install -q torch==2.13.0 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/pip install -q -e '.[all]' 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import crowd.server, crowd.serializer, crowd.capture, crowd.idm" 

if [ -f editor-bridge/scripts/setup.sh ]; then
  bash editor-bridge/scripts/setup.sh
fi
echo "setup: done"
