"""`crowd install-extension`: finds the bundled .vsix, installs through the editor's CLI,
remembers the interpreter, and fails with a message that says what to do."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from crowd.server import extension


def _crowd(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crowd.cli", "install-extension", *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = dict(os.environ)
    e["CROWD_HOME"] = str(tmp_path / "home")
    e["PATH"] = str(tmp_path / "bin")  # no editor on PATH unless a test puts one there
    (tmp_path / "bin").mkdir()
    return e


def _fake_vsix(tmp_path: Path) -> Path:
    vsix = tmp_path / "x.vsix"
    vsix.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip: the editor stub does not unpack it
    return vsix


def _editor_stub(tmp_path: Path, name: str, rc: int = 0) -> Path:
    """A stand-in for `code`: the real CLIs need a desktop; the stub logs its argv."""
    exe = tmp_path / "bin" / name
    exe.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path}/{name}.calls\nexit {rc}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return exe


def test_no_editor_on_path_says_how_to_fix(env, tmp_path: Path) -> None:
    r = _crowd("--vsix", str(_fake_vsix(tmp_path)), env=env)
    assert r.returncode == 1
    assert "no editor found on PATH" in r.stderr and "--editor" in r.stderr


def test_installs_into_every_editor_on_path_and_remembers_python(env, tmp_path: Path) -> None:
    vsix = _fake_vsix(tmp_path)
    _editor_stub(tmp_path, "code")
    _editor_stub(tmp_path, "cursor")
    r = _crowd("--vsix", str(vsix), "--extensions-dir", str(tmp_path / "ext"), env=env)
    assert r.returncode == 0, r.stderr
    for name in ("code", "cursor"):
        calls = (tmp_path / f"{name}.calls").read_text()
        assert f"--install-extension {vsix} --force --extensions-dir {tmp_path / 'ext'}" in calls
    assert (Path(env["CROWD_HOME"]) / "interpreter").read_text().strip() == sys.executable


def test_editor_failure_is_reported(env, tmp_path: Path) -> None:
    _editor_stub(tmp_path, "code-server", rc=3)
    r = _crowd("--vsix", str(_fake_vsix(tmp_path)), env=env)
    assert r.returncode == 1
    assert "failed (exit 3)" in r.stderr


def test_missing_vsix_is_a_clear_error(env, tmp_path: Path) -> None:
    env["CROWD_VSIX"] = str(tmp_path / "nope.vsix")
    r = _crowd("--print-vsix", env=env)
    assert r.returncode == 1
    assert "CROWD_VSIX" in r.stderr and "does not exist" in r.stderr


def test_bundled_vsix_is_found_after_setup() -> None:
    """scripts/setup.sh copies the built .vsix into the package; --print-vsix finds it."""
    bundled = Path(extension.__file__).parent / "extension_vsix" / extension.VSIX_NAME
    if not bundled.exists():
        pytest.skip("the .vsix is built by scripts/setup.sh (editor-bridge/scripts/setup.sh); not built here")
    assert extension.find_vsix(build=False) in (bundled, *extension.vsix_candidates())
    import zipfile

    with zipfile.ZipFile(extension.find_vsix(build=False)) as z:
        names = z.namelist()
    assert "extension/dist/extension.js" in names and "extension/package.json" in names
