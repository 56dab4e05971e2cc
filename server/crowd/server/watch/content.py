"""What a watched path holds, and the baseline of last known contents.

WHY a file's content and not its events: the change the watcher reports is always "known
content -> content on disk now" (see watcher.py), so this module defines what "content" is:
bytes, a symbolic link's target (links are never followed: one may point outside the
workspace), or, above MAX_CONTENT_BYTES (16 MiB), a size and hash only.

It also says *when* a path was written (``written_ns``): the kernel's mtime, not the moment a
thread of ours got round to its event. Under load the watcher's thread saw a write more than
0.1 s after the terminal command that made it had ended (issue 14: ``sed`` recorded as an
agent idling in another terminal); the mtime does not move with the load.
"""
from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

MAX_CONTENT_BYTES = 16 * 1024 * 1024
# an mtime further back than this before its event is not this write's (cp -p, tar, rsync -t
# keep the source's time); the event's own time is used then
MAX_WRITE_LAG_NS = 10_000_000_000
CLOCK_REALTIME_COARSE = 5   # Linux's clock id (Python does not name it); mtimes come from it


def _coarse_tick_ns() -> int:
    """How far an mtime may lie before the write it stamps: one tick of the kernel's coarse
    clock (4 ms measured here, HZ=250; 10 ms at HZ=100). Since Linux 6.13 an mtime is fine
    grained when its ctime was read since the last change, coarse otherwise."""
    try:
        return max(1, int(time.clock_getres(CLOCK_REALTIME_COARSE) * 1e9))
    except OSError:
        return 10_000_000


COARSE_TICK_NS = _coarse_tick_ns()


@dataclass(frozen=True)
class Link:
    """A symbolic link, recorded by its target and never followed (it may point outside)."""
    target: str


@dataclass(frozen=True)
class LargeFile:
    """A file above MAX_CONTENT_BYTES: known by size and hash only."""
    size: int
    sha256: str


Content = bytes | Link | LargeFile


def read_content(abs_path: str) -> Content | None:
    """What is at ``abs_path`` now: bytes, a Link, a LargeFile, or None (absent/not a file)."""
    try:
        st = os.lstat(abs_path)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        try:
            return Link(os.readlink(abs_path))
        except OSError:
            return None
    if not stat.S_ISREG(st.st_mode):
        return None
    try:
        if st.st_size > MAX_CONTENT_BYTES:
            h = hashlib.sha256()
            with open(abs_path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            return LargeFile(st.st_size, h.hexdigest())
        with open(abs_path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def written_ns(abs_path: str, seen_ns: int) -> int:
    """When ``abs_path`` was last written, on the monotonic clock, at the latest: the write
    happened in [mtime, mtime + one coarse tick] and before ``seen_ns`` (when its first event
    was received), so the earlier of mtime + tick and ``seen_ns``. The latest, because a
    command's start is stamped before it writes anything while its end has slack
    (editor_state.COMMAND_END_SLACK_NS): a shell builtin's write (``printf > f``) 2 ms after
    the start stamp had an mtime 2.3 ms *before* it (measured). An mtime outside
    MAX_WRITE_LAG_NS before ``seen_ns``, or after it (written again since), is not this
    event's write: ``seen_ns`` then."""
    try:
        mtime_ns = os.lstat(abs_path).st_mtime_ns
    except OSError:
        return seen_ns
    mono_ns = time.monotonic_ns() - (time.time_ns() - mtime_ns)
    if seen_ns - MAX_WRITE_LAG_NS <= mono_ns <= seen_ns:
        return min(mono_ns + COARSE_TICK_NS, seen_ns)
    return seen_ns


class Baseline(Protocol):
    """The last known content of every watched file (the sidecar's cache implements it)."""
    def get(self, rel: str) -> Content | None: ...
    def set(self, rel: str, content: Content) -> None: ...
    def remove(self, rel: str) -> None: ...
    def paths(self) -> Iterable[str]: ...


class MemoryBaseline:
    """A plain dict baseline, used standalone and by the benchmarks."""

    def __init__(self) -> None:
        self.data: dict[str, Content] = {}
        self._lock = threading.Lock()

    def get(self, rel: str) -> Content | None:
        return self.data.get(rel)

    def set(self, rel: str, content: Content) -> None:
        with self._lock:
            self.data[rel] = content

    def remove(self, rel: str) -> None:
        with self._lock:
            self.data.pop(rel, None)

    def paths(self) -> list[str]:
        with self._lock:
            return list(self.data)
