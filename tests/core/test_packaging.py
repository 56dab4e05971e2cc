"""The project builds as a wheel and installs (wheel and editable) with a working entry point.

Dependencies are not downloaded: each temporary venv sees the project venv's site-packages
through a plain path line in a .pth file (which, unlike the site dir itself, does not run
that venv's .pth hooks, so the project's own editable install cannot shadow the one tested).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Imports every module and prints the ones whose file is not at their import path
# (crowd.server.session must live in .../crowd/server/session.py), then crowd.server's file.
IMPORTS = """
import importlib, pkgutil, crowd, crowd.server
bad = []
for info in pkgutil.walk_packages(crowd.__path__, "crowd.", onerror=lambda name: None):
    spec = importlib.util.find_spec(info.name)
    tail = info.name.replace(".", "/") + ("/__init__.py" if info.ispkg else ".py")
    if not spec.origin.replace(chr(92), "/").endswith(tail):
        bad.append((info.name, spec.origin))
print(bad)
print(crowd.server.__file__)
"""


def _run(cmd: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


def _source_copy(tmp: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, check=True).stdout
    src = tmp / "src"
    for name in files.decode().split("\0"):
        if not name or not (REPO / name).is_file():
            continue
        target = src / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    return src


def _venv(path: Path) -> Path:
    base = getattr(sys, "_base_executable", sys.executable)
    _run([base, "-m", "venv", "--without-pip", str(path)], path.parent)
    python = path / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], path).stdout.strip()
    Path(purelib, "zz_project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def _check_installed(python: Path, expect_under: Path, cwd: Path) -> None:
    bad, where = _run([str(python), "-c", IMPORTS], cwd).stdout.strip().splitlines()
    assert bad == "[]", bad
    assert Path(where).resolve().is_relative_to(expect_under.resolve()), where
    help_text = _run([str(python.parent / "crowd"), "--help"], cwd).stdout
    assert "sidecar" in help_text and "demo" in help_text


@pytest.mark.slow
def test_wheel_and_editable_install(tmp_path: Path) -> None:
    src = _source_copy(tmp_path)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(src)],
         tmp_path)
    wheels = list(dist.glob("crowd_rollouts-*.whl"))
    assert len(wheels) == 1

    wheel_env = tmp_path / "wheel-env"
    python = _venv(wheel_env)
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
          str(wheels[0])], tmp_path)
    _check_installed(python, wheel_env, tmp_path)

    editable_env = tmp_path / "editable-env"
    python = _venv(editable_env)
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-build-isolation",
          "-q", "-e", str(src)], tmp_path)
    _check_installed(python, src / "server", tmp_path)
