"""Two steps from nothing to recording: install the .vsix, consent.

code-server starts from a fresh user-data folder on a machine where the interpreter the
extension finds (the system's python3, PEP 668 "externally managed" on Debian) does not have
crowd: no crowd.python setting, no crowd on PATH, no `crowd install-extension`. The extension
must set up its own sidecar (a venv in its global storage, from the wheels its .vsix ships:
editor-bridge/scripts/bundle-python.sh), show the consent dialog, and record what is typed
into crowd's default recordings folder. No terminal step.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from crowd.format import read_recording
from tests.bridge.codeserver import PLAYWRIGHT, ROOT, SHOTS, CodeServer, missing_preconditions

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CORPUS = ROOT / "editor-bridge" / "test" / "e2e" / "corpus.mjs"
VSIX = ROOT / "editor-bridge" / "dist" / "crowd-bridge.vsix"
TYPED = "answer = 6 * 7  # typed right after installing"


def _path_without_crowd() -> str:
    venv = ROOT / ".venv"
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and not Path(p).resolve().is_relative_to(venv.resolve()))


def test_install_the_vsix_consent_type_find_the_recording(tmp_path: Path) -> None:
    missing = missing_preconditions()
    if missing:
        pytest.skip("needs what scripts/setup.sh installs; missing: " + ", ".join(missing))
    path = _path_without_crowd()
    # code-server gives its extension host the login shell's PATH (pyenv shims here); with
    # PYENV_VERSION=system those resolve to Debian's own python3 (PEP 668 externally managed)
    debian = bool(list(Path("/usr/lib").glob("python3*/EXTERNALLY-MANAGED"))) and Path("/usr/bin/python3").exists()
    python3 = shutil.which("python3", path=path)
    if python3 is None:
        pytest.skip("no python3 on this machine outside the repository's .venv")
    probe = subprocess.run([python3, "-c", "import crowd.server"], capture_output=True, env={"PATH": path})
    if probe.returncode == 0:
        pytest.skip(f"{python3} already has crowd: not a machine without the package")
    assert VSIX.exists(), f"{VSIX} missing: run editor-bridge/scripts/build.sh"
    with zipfile.ZipFile(VSIX) as z:
        assert "extension/python/manifest.json" in z.namelist(), "the .vsix ships no Python bundle (bundle-python.sh)"

    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "hello.py").write_text("# a fresh project\n")
    settings = {"workbench.startupEditor": "none", "files.autoSave": "off", "security.workspace.trust.enabled": False,
                "extensions.autoCheckUpdates": False, "git.enabled": False}
    server = CodeServer.prepare(tmp_path / "cs", ws, settings)
    server.env["PATH"] = path
    server.env.pop("VIRTUAL_ENV", None)
    server.env["PYENV_VERSION"] = "system"
    installed = server.install_vsix(VSIX)  # only the .vsix, through the editor's own installer
    assert installed.returncode == 0, installed.stderr
    server.start(tmp_path / "code-server.log")
    shots = SHOTS
    shots.mkdir(parents=True, exist_ok=True)
    try:
        cfg = {"url": server.url, "playwright": str(PLAYWRIGHT), "chromium": shutil.which("chromium"),
               "consent": True, "waitFor": "REC", "shots": str(shots),
               "cases": [{"file": "hello.py", "steps": [{"type": TYPED, "delay": 20}, {"press": "Enter"}]}],
               "failShot": str(ROOT / ".bench-out" / "provision_failure.png")}
        proc = subprocess.run(["node", str(CORPUS), json.dumps(cfg)], capture_output=True, text=True, timeout=900)
        logs = "\n".join(p.read_text(errors="replace") for p in server.user_data.glob("logs/**/*crowd*.log"))
        assert proc.returncode == 0, f"{proc.stderr[-3000:]}\n--- crowd log ---\n{logs[-4000:]}"
        print(f"\n{proc.stdout.strip()}")
    finally:
        server.stop()

    venvs = list((server.user_data / "User" / "globalStorage" / "crowd.crowd-bridge").glob("sidecar-*/.crowd-provisioned"))
    assert venvs, "the extension made its own environment in its global storage"
    assert "provision: the sidecar runs from" in logs, logs[-3000:]
    cfg_text = (venvs[0].parent / "pyvenv.cfg").read_text()
    if debian:
        assert "home = /usr/bin" in cfg_text, f"made from Debian's externally-managed python3: {cfg_text}"
    recordings = server.base / "crowd-home" / "recordings"  # crowd's default folder ($CROWD_HOME/recordings)
    sessions = [p for p in recordings.glob("*") if p.is_dir() and list(p.glob("seg-*.crowd"))]
    assert len(sessions) == 1, sessions
    events = read_recording(sessions[0]).events
    typed = "".join(c["text"] for e in events if e.get("kind") == "edit" and e.get("file") == "hello.py"
                    and e.get("source") == "user" for c in e["changes"])
    assert TYPED in typed, typed
