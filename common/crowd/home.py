"""Where crowd keeps its files on a user's machine.

One place decides this so that the sidecar, the desktop recorder and the CLI agree, and so
tests can redirect everything with the ``CROWD_HOME`` environment variable.
"""
from __future__ import annotations

import os
from pathlib import Path


def crowd_home() -> Path:
    """The root of crowd's per-user state (recordings, tokens, queues)."""
    env = os.environ.get("CROWD_HOME")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "crowd"


def recordings_dir() -> Path:
    """Default folder for editor/terminal recordings."""
    return crowd_home() / "recordings"


def private_dir(path: Path) -> Path:
    """Create ``path`` readable by the user only (0700) and return it."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def sidecar_token_file() -> Path:
    """Where a WebSocket sidecar announces its port and token (mode 0600), for ``crowd term``
    and other local clients to find it; here rather than in the sidecar so clients need not
    import it."""
    return crowd_home() / "sidecar-ws.json"
