"""Where crowd keeps its files on a user's machine.

One place decides this so that the sidecar, the desktop recorder and the CLI agree, and so
tests can redirect everything with the ``CROWD_HOME`` environment variable.

The user's consent is one of those files: one fact for every recorder on the machine
(``granted``, ``declined`` or ``paused``), written by the sidecar when the editor's answer or
pause changes, obeyed by the recorders that run without it (``crowd term``'s fallback).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ConsentState = Literal["granted", "declined", "paused"]
CONSENT_STATES: tuple[ConsentState, ...] = ("granted", "declined", "paused")


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


def consent_file(home: Path | None = None) -> Path:
    """The machine's consent fact (JSON ``{"state": ...}``, mode 0600) under ``home``
    (default: ``crowd_home()``)."""
    return (home or crowd_home()) / "consent.json"


@dataclass(frozen=True)
class ConsentFact:
    state: ConsentState
    since_ms: float = 0.0                  # wall clock (ms) when it took effect; 0: unknown
    before: ConsentState | None = None     # the fact it replaced (None: there was none)


def read_consent_fact(home: Path | None = None) -> ConsentFact | None:
    """The last consent fact written; None when none was ever written. A file that cannot be
    read or holds no known state reads as ``declined``: consent is never assumed."""
    path = consent_file(home)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except (OSError, ValueError):            # unreadable, or not UTF-8
        return ConsentFact("declined")
    try:
        data = json.loads(text)
        state, since, before = data.get("state"), data.get("since_ms", 0), data.get("before")
    except (ValueError, AttributeError):
        return ConsentFact("declined")
    if state not in CONSENT_STATES:
        return ConsentFact("declined")
    return ConsentFact(state, float(since) if isinstance(since, (int, float)) else 0.0,
                       before if before in CONSENT_STATES else None)


def read_consent(home: Path | None = None) -> ConsentState | None:
    """The state of ``read_consent_fact``."""
    fact = read_consent_fact(home)
    return fact.state if fact is not None else None


def write_consent(state: ConsentState, home: Path | None = None) -> None:
    """Replace the consent fact atomically (a reader never sees half of it), stamped with the
    time it takes effect and the fact it replaces (so a recorder can judge input that reaches
    it late); writing the state already in force changes nothing."""
    if state not in CONSENT_STATES:
        raise ValueError(f"unknown consent state {state!r}; expected one of {CONSENT_STATES}")
    before = read_consent(home)
    if before == state:
        return                     # unchanged: keep when it took effect and what it replaced
    path = consent_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"state": state, "since_ms": time.time() * 1000, "before": before}, fh)
    os.replace(tmp, path)
