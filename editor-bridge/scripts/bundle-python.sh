#!/usr/bin/env bash
# Fills editor-bridge/python/ (git-ignored, shipped in the .vsix) with what the extension needs
# to provision its own sidecar on a machine that has only a Python interpreter
# (src/provision.ts): the crowd-rollouts wheel, pip's wheel (to install into a venv made
# without pip: Debian's python3 may lack ensurepip), and the wheels of crowd's dependencies for
# this build machine's platform (so provisioning works offline there; elsewhere the
# dependencies come from the package index). manifest.json names them.
# Usage: bundle-python.sh [python]   (default: the repository's .venv/bin/python)
set -euo pipefail
bridge="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$bridge/.." && pwd)"
py="${1:-$root/.venv/bin/python}"
out="$bridge/python"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1

# the wheel is built from a copy without the bundled .vsix (the wheel would otherwise carry the
# previous .vsix, which carries the previous wheel...)
mkdir -p "$work/src"
tar -C "$root" --exclude=./.venv --exclude=./.git --exclude=./.tools --exclude=./.bench-out \
  --exclude=./editor-bridge --exclude='*.vsix' --exclude='__pycache__' -cf - . | tar -C "$work/src" -xf -
mkdir -p "$work/src/editor-bridge"
rm -rf "$out.new" && mkdir -p "$out.new"
"$py" -m pip wheel -q --no-deps --no-build-isolation -w "$out.new" "$work/src" 2>&1 | grep -v "^WARNING: Location" || true
"$py" -m pip download -q --no-deps -d "$out.new" pip 2>&1 | grep -v "^WARNING: Location" || true
wheel=$(cd "$out.new" && ls crowd_rollouts-*.whl)
deps=yes
"$py" -m pip download -q -d "$out.new/deps" "$out.new/$wheel" 2>&1 | grep -v "^WARNING: Location" || deps=no
rm -f "$out.new/deps/$wheel"
"$py" - "$out.new" "$wheel" <<'PY'
import json, pathlib, sys, sysconfig
out, wheel = pathlib.Path(sys.argv[1]), sys.argv[2]
pip = sorted(p.name for p in out.glob("pip-*.whl"))
deps = sorted(p.name for p in (out / "deps").glob("*.whl")) if (out / "deps").is_dir() else []
json.dump({"wheel": wheel, "version": wheel.split("-")[1], "pip": pip[-1] if pip else None, "deps": deps,
           "depsPlatform": sysconfig.get_platform(), "depsPython": f"{sys.version_info[0]}.{sys.version_info[1]}"},
          open(out / "manifest.json", "w"), indent=1)
PY
rm -rf "$out" && mv "$out.new" "$out"
echo "editor-bridge: bundled $(ls "$out" | tr '\n' ' ')($(ls "$out/deps" 2>/dev/null | wc -l) dependency wheels)"
