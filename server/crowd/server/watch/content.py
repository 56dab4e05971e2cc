"""What a watched path holds, and the baseline of last known contents.

WHY a file's content and not its events: the change the watcher reports is always "known
content -> content on disk now" (see watcher.py), so this module defines what "content" is:
bytes, a symbolic link's target (links are never followed: one may point outside the
workspace), or, above MAX_CONTENT_BYTES (16 MiB), a size and hash only.
"""
from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

MAX_CONTENT_BYTES = 16 * 1024 * 1024


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
