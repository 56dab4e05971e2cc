"""The desktop recorder's persisted settings and per-user state files.

Settings (the allowlist chosen by ``crowd cast setup``, video quality, whether uploads are
paused) live in ``<crowd home>/cast/settings.json``; a running recorder leaves its pid and a
status snapshot next to them so ``crowd cast status`` and ``crowd cast panic`` can find it.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from crowd.home import crowd_home, private_dir


def cast_dir() -> Path:
    return private_dir(crowd_home() / "cast")


def settings_path() -> Path:
    return cast_dir() / "settings.json"


def pid_path() -> Path:
    return cast_dir() / "recorder.pid"


def status_path() -> Path:
    return cast_dir() / "status.json"


def default_output_dir() -> Path:
    return crowd_home() / "cast" / "recordings"


@dataclass
class CastSettings:
    apps: list[str] = field(default_factory=list)
    output_dir: str = ""
    fps: float = 30.0
    crf: int = 23
    preset: str = "veryfast"
    codec: str = "libx264"
    uploads_paused: bool = False

    @property
    def output_path(self) -> Path:
        return Path(self.output_dir) if self.output_dir else default_output_dir()

    @property
    def configured(self) -> bool:
        return bool(self.apps)


def load_settings(path: Path | None = None) -> CastSettings:
    """Settings from disk; defaults when there is no file. A broken file is a clear error."""
    p = path or settings_path()
    if not p.exists():
        return CastSettings()
    try:
        raw = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{p}: unreadable settings ({exc}); fix or delete it and run `crowd cast setup`") from None
    known = {f.name for f in fields(CastSettings)}
    return CastSettings(**{k: v for k, v in raw.items() if k in known})


def save_settings(settings: CastSettings, path: Path | None = None) -> Path:
    """Write atomically (temp file + rename) so a crash never leaves half a file."""
    p = path or settings_path()
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings), indent=2))
    os.replace(tmp, p)
    return p


def running_pid() -> int | None:
    """Pid of a live ``crowd cast record`` process, if any."""
    try:
        pid = int(pid_path().read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid
