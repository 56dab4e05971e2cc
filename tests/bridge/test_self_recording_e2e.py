"""crowd never records itself (editor-bridge/src/core/ownRecordings.ts), in code-server.

Before: a window opened on the recordings folder recorded its own segment files (346
external changes in 69 s), and a crowd.exportPath inside the workspace was recorded too and
showed up untracked in git.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from crowd.format import read_recording
from crowd.home import write_consent
from tests.bridge.codeserver import PLAYWRIGHT, ROOT, CodeServer, missing_preconditions

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CORPUS = ROOT / "editor-bridge" / "test" / "e2e" / "corpus.mjs"
SETTINGS = {"workbench.startupEditor": "none", "files.autoSave": "off", "security.workspace.trust.enabled": False,
            "extensions.autoCheckUpdates": False, "git.enabled": False,
            "crowd.python": str(ROOT / ".venv" / "bin" / "python")}


def _drive(server: CodeServer, wait_for: str, cases: list[dict], name: str) -> None:
    cfg = {"url": server.url, "playwright": str(PLAYWRIGHT), "chromium": shutil.which("chromium"),
           "waitFor": wait_for, "cases": cases, "failShot": str(ROOT / ".bench-out" / f"{name}_failure.png")}
    proc = subprocess.run(["node", str(CORPUS), json.dumps(cfg)], capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_export_path_inside_the_workspace_is_not_recorded_nor_untracked(tmp_path: Path) -> None:
    missing = missing_preconditions()
    if missing:
        pytest.skip("needs what scripts/setup.sh installs; missing: " + ", ".join(missing))
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text("x = 1\n")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e",
           "HOME": str(tmp_path)}
    for cmd in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-qm", "init"]):
        subprocess.run(cmd, cwd=ws, check=True, env=env)
    inside = ws / "crowd-recordings"
    server = CodeServer.prepare(tmp_path / "cs", ws, {**SETTINGS, "crowd.exportPath": str(inside)})
    assert server.install_extension().returncode == 0
    write_consent("granted", server.base / "crowd-home")
    server.start(tmp_path / "code-server.log")
    try:
        _drive(server, "REC", [{"file": "a.py", "steps": [{"type": "y = 2", "delay": 10}, {"press": "Enter"}]}], "inside")
    finally:
        server.stop()
    sessions = [p for p in inside.glob("*") if p.is_dir() and list(p.glob("seg-*.crowd"))]
    assert len(sessions) == 1, sessions
    events = read_recording(sessions[0]).events
    assert any(e.get("kind") == "edit" and e.get("file") == "a.py" for e in events)
    own = [e for e in events if str(e.get("file") or "").startswith("crowd-recordings")]
    assert not own, f"the recording recorded itself: {own[:3]}"
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ws, capture_output=True,
                            text=True, check=True, env=env).stdout
    assert "crowd-recordings" not in status, status


def test_a_window_on_the_recordings_folder_records_nothing(tmp_path: Path) -> None:
    missing = missing_preconditions()
    if missing:
        pytest.skip("needs what scripts/setup.sh installs; missing: " + ", ".join(missing))
    crowd_home = tmp_path / "cs" / "crowd-home"
    recordings = crowd_home / "recordings"      # crowd's default folder ($CROWD_HOME/recordings)
    old = recordings / "20261206-100000-old"
    old.mkdir(parents=True)
    (old / "seg-000000.crowd").write_bytes(b"")
    server = CodeServer.prepare(tmp_path / "cs", recordings, dict(SETTINGS))  # "Open recordings folder" used to do this
    assert server.install_extension().returncode == 0
    write_consent("granted", crowd_home)
    server.start(tmp_path / "code-server.log")
    try:
        _drive(server, "off here", [], "onrecordings")
    finally:
        server.stop()
    assert sorted(p.name for p in recordings.iterdir() if p.is_dir()) == [old.name], list(recordings.iterdir())
    logs = "\n".join(p.read_text(errors="replace") for p in server.user_data.glob("logs/**/*crowd*.log"))
    assert "crowd never records its own recordings" in logs, logs[-2000:]
