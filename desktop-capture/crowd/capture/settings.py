"""The desktop recorder's persisted settings and per-user state files.

Settings (the allowlist chosen by ``crowd cast setup``, video quality, whether uploads are
paused) live in ``<crowd home>/cast/settings.json``; a running recorder leaves its pid and a
status snapshot next to them so ``crowd cast status`` and ``crowd cast panic`` can find it.
Where those files are and how they are read lives in ``crowd.format.desktop.state``, below the
upload library that needs them too; this module adds the writing side and the typed settings.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from crowd.format.desktop import state
from crowd.format.desktop.state import default_output_dir
from crowd.home import private_dir


def cast_dir() -> Path:
    """The state folder, created readable by the user only: the recorder writes here."""
    return private_dir(state.cast_dir())


def settings_path() -> Path:
    return cast_dir() / state.SETTINGS_FILE


def pid_path() -> Path:
    return cast_dir() / state.PID_FILE


def status_path() -> Path:
    return cast_dir() / state.STATUS_FILE


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
    raw = state.read_settings(path or settings_path())
    known = {f.name for f in fields(CastSettings)}
    return CastSettings(**{k: v for k, v in raw.items() if k in known})


def save_settings(settings: CastSettings, path: Path | None = None) -> Path:
    """Write atomically (temp file + rename) so a crash never leaves half a file."""
    p = path or settings_path()
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings), indent=2))
    os.replace(tmp, p)
    return p
