"""The desktop recorder's per-user files, as every part that looks for them reads them.

``crowd cast`` keeps its settings, the pid of a running recorder and a status snapshot in
``<crowd home>/cast``. ``crowd upload run`` needs two facts from them: the folder the
recorder writes into (its settings' ``output_dir``) and the session a running recorder is
still writing (never to be bundled). They live here, beside the desktop file layout and
below both the recorder (``crowd.capture``) and the upload library (``crowd.transfer``), so
the upload library reads them without importing the recorder, which itself imports the
upload library to hand segments to the queue.

Nothing here creates folders: readers only look. The recorder creates ``cast/`` (0700)
before it writes (``crowd.capture.settings``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from crowd.home import crowd_home

SETTINGS_FILE = "settings.json"
PID_FILE = "recorder.pid"
STATUS_FILE = "status.json"


def cast_dir() -> Path:
    """Where the recorder keeps its settings, pid and status files."""
    return crowd_home() / "cast"


def settings_file() -> Path:
    return cast_dir() / SETTINGS_FILE


def pid_file() -> Path:
    return cast_dir() / PID_FILE


def status_file() -> Path:
    return cast_dir() / STATUS_FILE


def default_output_dir() -> Path:
    """Where segments go when the settings name no folder."""
    return cast_dir() / "recordings"


def read_settings(path: Path | None = None) -> dict[str, Any]:
    """The settings file's fields; empty when there is no file. A broken file is a clear error
    (ValueError) that tells the user how to fix it."""
    p = path or settings_file()
    if not p.exists():
        return {}
    try:
        raw = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{p}: unreadable settings ({exc}); fix or delete it and run `crowd cast setup`") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{p}: unreadable settings (not a JSON object); fix or delete it and run `crowd cast setup`")
    return raw


def output_dir(path: Path | None = None) -> Path:
    """The folder ``crowd cast record`` writes into: its settings' ``output_dir``, else the
    default. Raises ValueError when the settings file is unreadable."""
    configured = read_settings(path).get("output_dir")
    return Path(configured) if isinstance(configured, str) and configured else default_output_dir()


def running_pid() -> int | None:
    """Pid of a live ``crowd cast record`` process, if any."""
    try:
        pid = int(pid_file().read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def live_session_id() -> str | None:
    """The session a running recorder is writing, from its status file (None when no recorder
    runs or it has not written a status yet)."""
    if running_pid() is None:
        return None
    try:
        sid = json.loads(status_file().read_text()).get("session_id")
    except (OSError, ValueError, AttributeError):
        return None
    return sid if isinstance(sid, str) else None
