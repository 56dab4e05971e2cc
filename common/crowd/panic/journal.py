"""The panic journal: what a panic must delete, written before anything is deleted.

WHY a journal (issue 13 item 2): panic reached only the pressing sidecar's current recording,
and a crash in the middle left the rest undone for good. Now the request is one file,
``$CROWD_HOME/panic.json``, written atomically (and synced) before any deletion: the windows
of wall-clock time to delete (epoch ms, ``[cutoff, until]``; a second panic before the first
finished adds its window, it never widens one over events between them). Each recording
folder that has been cleaned gets a marker under ``$CROWD_HOME/panic/<id>/``; when every
folder is done the journal is removed. Until then anyone who starts (a sidecar, ``crowd
term``) resumes it, and live recorders watching it (watch.py) clean their own folder and
their memory. Deleting a window twice deletes nothing more, so resuming is always safe.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crowd.home import crowd_home

JOURNAL = "panic.json"
MARKERS = "panic"
HEADER_KINDS = ("start", "consent")      # a recording's own header is never deleted
# what a terminal model is fed after a panic: erase the screen (ED 2) and the scrollback
# (ED 3, xterm), cursor and modes kept, so no screen recorded later shows deleted output
FORGET_SCREEN = b"\x1b[2J\x1b[3J"


@dataclass(frozen=True)
class PanicRequest:
    """Delete every event whose ``wall`` (epoch ms) falls in one of ``windows``."""

    id: str
    windows: tuple[tuple[int, int], ...]

    @property
    def earliest_ms(self) -> int:
        return min(c for c, _ in self.windows)

    def covers(self, wall: Any) -> bool:
        if isinstance(wall, bool) or not isinstance(wall, (int, float)):
            return False
        return any(c <= wall <= u for c, u in self.windows)

    def doomed(self, event: dict[str, Any]) -> bool:
        """The event is in a window (a recording's start/consent header excepted)."""
        if event.get("type") == "session" and event.get("kind") in HEADER_KINDS:
            return False
        return self.covers(event.get("wall"))


def journal_file(home: Path | None = None) -> Path:
    return (home or crowd_home()) / JOURNAL


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / ".panic.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read(home: Path) -> PanicRequest | None:
    try:
        data = json.loads(journal_file(home).read_text())
        windows = tuple((int(c), int(u)) for c, u in data["windows"])
        if not windows or not isinstance(data["id"], str):
            raise ValueError("empty")
        return PanicRequest(data["id"], windows)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError):
        # a damaged journal: the deletion it asked for is unknown, so delete the widest
        # window it could have meant is not possible either; keep it visible and refuse
        raise ValueError(f"the panic journal {journal_file(home)} is damaged; remove it after checking") from None


def _write(home: Path, request: PanicRequest) -> None:
    path = journal_file(home)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"id": request.id, "windows": [list(w) for w in request.windows]}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(home, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def begin(cutoff_wall_ms: int, until_wall_ms: int, home: Path | None = None) -> PanicRequest:
    """Journal a panic of ``[cutoff, until]`` (joined to an unfinished one) and return it."""
    home = home or crowd_home()
    with _locked(home):
        previous = _read(home)
        windows = (previous.windows if previous else ()) + ((int(cutoff_wall_ms), int(until_wall_ms)),)
        request = PanicRequest(secrets.token_hex(8), windows)
        _write(home, request)
        return request


def pending(home: Path | None = None) -> PanicRequest | None:
    """The unfinished panic, if any."""
    home = home or crowd_home()
    if not journal_file(home).exists():
        return None
    with _locked(home):
        return _read(home)


def _marker(home: Path, request: PanicRequest, folder: Path) -> Path:
    key = hashlib.sha256(str(Path(folder).absolute()).encode()).hexdigest()[:24]
    return home / MARKERS / request.id / key


def mark_applied(request: PanicRequest, folder: Path, home: Path | None = None) -> None:
    """``folder`` holds nothing of ``request``'s windows any more (nor does its recorder's memory)."""
    marker = _marker(home or crowd_home(), request, folder)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(folder))


def applied(request: PanicRequest, folder: Path, home: Path | None = None) -> bool:
    return _marker(home or crowd_home(), request, folder).exists()


def finish(request: PanicRequest, home: Path | None = None) -> bool:
    """Remove the journal if it is still ``request`` (a panic pressed meanwhile keeps it)."""
    home = home or crowd_home()
    with _locked(home):
        current = _read(home)
        if current is None or current.id != request.id:
            return False
        # markers first, the journal last: once the journal is gone nothing of the panic is
        # left on disk (a watcher or test that waits for it sees a settled folder); a crash in
        # between only makes the next start redo the panic, whose deletions are idempotent
        shutil.rmtree(home / MARKERS, ignore_errors=True)
        journal_file(home).unlink()
        return True
