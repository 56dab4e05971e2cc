"""crowd never records itself (editor-bridge/src/core/ownRecordings.ts), in code-server.

Before: a window opened on the recordings folder recorded its own segment files (346
external changes in 69 s), and a crowd.exportPath inside the workspace was recorded too and
showed up untracked in git.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crowd.format import read_recording
from tests.bridge.e2e_setup import consented_server, drive, recordings_in, skip_unless_installed

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_export_path_inside_the_workspace_is_not_recorded_nor_untracked(tmp_path: Path) -> None:
    skip_unless_installed()
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text("x = 1\n")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e",
           "HOME": str(tmp_path)}
    for cmd in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-qm", "init"]):
        subprocess.run(cmd, cwd=ws, check=True, env=env)
    inside = ws / "crowd-recordings"
    server = consented_server(tmp_path / "cs", ws, {"crowd.exportPath": str(inside)}, tmp_path / "code-server.log")
    try:
        drive(server, [{"file": "a.py", "steps": [{"type": "y = 2", "delay": 10}, {"press": "Enter"}]}], "inside")
    finally:
        server.stop()
    sessions = recordings_in(inside)
    assert len(sessions) == 1, sessions
    events = read_recording(sessions[0]).events
    assert any(e.get("kind") == "edit" and e.get("file") == "a.py" for e in events)
    own = [e for e in events if str(e.get("file") or "").startswith("crowd-recordings")]
    assert not own, f"the recording recorded itself: {own[:3]}"
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ws, capture_output=True,
                            text=True, check=True, env=env).stdout
    assert "crowd-recordings" not in status, status


def test_a_window_on_the_recordings_folder_records_nothing(tmp_path: Path) -> None:
    skip_unless_installed()
    crowd_home = tmp_path / "cs" / "crowd-home"
    recordings = crowd_home / "recordings"      # crowd's default folder ($CROWD_HOME/recordings)
    old = recordings / "20261206-100000-old"
    old.mkdir(parents=True)
    (old / "seg-000000.crowd").write_bytes(b"")
    # "Open recordings folder" used to do this
    server = consented_server(tmp_path / "cs", recordings, {}, tmp_path / "code-server.log")
    try:
        drive(server, [], "onrecordings", wait_for="off here")
    finally:
        server.stop()
    assert sorted(p.name for p in recordings.iterdir() if p.is_dir()) == [old.name], list(recordings.iterdir())
    logs = "\n".join(p.read_text(errors="replace") for p in server.user_data.glob("logs/**/*crowd*.log"))
    assert "crowd never records its own recordings" in logs, logs[-2000:]
