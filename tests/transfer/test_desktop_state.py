"""The upload scan finds the desktop recorder's folder and live session from its state files
(crowd.format.desktop.state), the same files crowd.capture writes, without importing crowd.capture."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crowd.format.desktop import state
from crowd.transfer.scan import default_desktop_folder, live_desktop_sessions


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CROWD_HOME", str(tmp_path))
    return tmp_path


def test_folder_default_configured_and_unreadable(home: Path) -> None:
    assert default_desktop_folder() == home / "cast" / "recordings"
    (home / "cast").mkdir()
    (home / "cast" / "settings.json").write_text(json.dumps({"apps": ["X"], "output_dir": str(home / "elsewhere")}))
    assert default_desktop_folder() == home / "elsewhere"
    (home / "cast" / "settings.json").write_text("{broken")
    assert default_desktop_folder() == home / "cast" / "recordings"
    with pytest.raises(ValueError, match="crowd cast setup"):
        state.output_dir()


def test_recorder_settings_and_scan_agree(home: Path) -> None:
    from crowd.capture.settings import CastSettings, load_settings, save_settings

    save_settings(CastSettings(apps=["X"], output_dir=str(home / "rec")))
    assert load_settings().output_path == default_desktop_folder() == home / "rec"


def test_live_session_only_while_the_recorder_runs(home: Path) -> None:
    assert live_desktop_sessions() == set()
    (home / "cast").mkdir()
    state.status_file().write_text(json.dumps({"session_id": "abc", "state": "recording"}))
    state.pid_file().write_text(str(os.getpid()))          # a live process
    assert live_desktop_sessions() == {"abc"}
    state.status_file().write_text("[]")                    # not an object: no session
    assert live_desktop_sessions() == set()
    state.status_file().write_text(json.dumps({"session_id": "abc"}))
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    state.pid_file().write_text(done.stdout.strip())        # a process that has exited
    assert live_desktop_sessions() == set()
