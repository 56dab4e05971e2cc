"""The watcher's view of the sidecar's WorkspaceCache (server/workspace, owned by the core).

The core's cache holds the text of every tracked file and decides what is ignored; the
watcher needs, besides, the bytes of small binary files (so snapshots restore them byte for
byte) and a fingerprint of everything else (links, large and secret files) so that their
changes are seen without keeping their content.
"""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from crowd.server.watch.content import Content, LargeFile, Link

SIDE_BYTES_LIMIT = 64 * 1024 * 1024   # binary bytes kept for snapshots, in all
SIDE_FILE_LIMIT = 1024 * 1024


class CacheRoots:
    """Roots protocol of the watcher over the core's folders and ignore rules."""

    def __init__(self, workspace: Any) -> None:
        self.ws = workspace

    def paths(self) -> list[Path]:
        return [f.root for f in self.ws.folders.folders]

    def to_rel(self, abs_path: str) -> str | None:
        return self.ws.rel_path(abs_path)

    def to_abs(self, rel: str) -> Path:
        path = self.ws.abs_path(rel)
        if path is None:
            raise KeyError(rel)
        return path

    def is_ignored(self, rel: str, is_dir: bool = False) -> bool:
        found = self.ws.folders.split(rel)
        if found is None:
            return True
        folder, inner = found
        return self.ws.rules[folder.name].is_ignored(inner, is_dir)

    def invalidate(self) -> None:
        for rules in self.ws.rules.values():
            rules.forget()


class CacheBaseline:
    """Baseline protocol: text in the core's cache, the rest beside it."""

    def __init__(self, workspace: Any) -> None:
        self.ws = workspace
        self._side: dict[str, Content] = {}
        self._side_bytes = 0
        self._lock = threading.Lock()

    def is_secret(self, rel: str) -> bool:
        check = self.ws.is_secret_path
        return bool(check is not None and check(rel))

    def get(self, rel: str) -> Content | None:
        text = self.ws.get_text(rel)
        if text is not None:
            return text.encode("utf-8", "surrogatepass")
        return self._side.get(rel)

    def _text_of(self, rel: str, data: bytes) -> str | None:
        from crowd.server.workspace.textfiles import binary_reason  # noqa: PLC0415

        if len(data) > self.ws.max_file_bytes or self.is_secret(rel) or binary_reason(data) is not None:
            return None
        return data.decode("utf-8")

    def set(self, rel: str, content: Content) -> None:
        text = self._text_of(rel, content) if isinstance(content, bytes) else None
        if text is not None:
            self.ws.set_text(rel, text)
            self._drop_side(rel)
            return
        self.ws.remove(rel)
        if isinstance(content, bytes) and (self.is_secret(rel) or len(content) > SIDE_FILE_LIMIT
                                           or self._side_bytes + len(content) > SIDE_BYTES_LIMIT):
            content = LargeFile(len(content), hashlib.sha256(content).hexdigest())
        with self._lock:
            self._drop_side_locked(rel)
            self._side[rel] = content
            if isinstance(content, bytes):
                self._side_bytes += len(content)

    def _drop_side(self, rel: str) -> None:
        with self._lock:
            self._drop_side_locked(rel)

    def _drop_side_locked(self, rel: str) -> None:
        old = self._side.pop(rel, None)
        if isinstance(old, bytes):
            self._side_bytes -= len(old)

    def remove(self, rel: str) -> None:
        self.ws.remove(rel)
        self._drop_side(rel)

    def paths(self) -> list[str]:
        with self._lock:
            side = list(self._side)
        return [*self.ws.files(), *side]

    def has(self, rel: str) -> bool:
        return rel in self.ws or rel in self._side

    def __len__(self) -> int:
        return len(self.ws.files()) + len(self._side)


__all__ = ["CacheBaseline", "CacheRoots", "Link", "LargeFile"]
