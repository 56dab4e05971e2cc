"""An optional local hold of finished segments before they are handed to the uploader.

By default (``hold_seconds`` 0) a segment is handed on as soon as it is closed: the upload
queue (``crowd.transfer.UploadQueue``) bundles it and holds the bundle for its own hold
period (600 s), during which panic can still shred it -- one hold in total, not two. A
positive ``hold_seconds`` keeps closed segments here that long first (for a sink without a
hold of its own). A segment's files are last written when it closes, so "held" is simply
"closed less than hold_seconds ago by file mtime" -- this survives a restart of the recorder
without extra state. ``purge_recent`` is panic's rule on the folder, held or handed on:
every segment written in the last ``seconds``.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from crowd.format.desktop.layout import Segment, list_segments

SegmentCallback = Callable[[Segment], None]
DeletedCallback = Callable[[list[Path]], None]


class SegmentHold:
    def __init__(self, folder: Path, hold_seconds: float = 0.0,
                 on_ready: SegmentCallback | None = None,
                 now: Callable[[], float] = time.time) -> None:
        self.folder = Path(folder)
        self.hold_seconds = hold_seconds
        self.on_ready = on_ready
        self.now = now
        self._held: dict[tuple[str, int], Segment] = {}
        self._lock = threading.Lock()
        self.handed: list[Segment] = []

    def scan(self, exclude_session: str | None = None) -> None:
        """Adopt segments already in the folder (a previous run): held or due by mtime."""
        if not self.folder.is_dir():
            return
        for seg in list_segments(self.folder):
            if seg.session_id != exclude_session:
                self.add(seg)
        self.release_due()

    def add(self, seg: Segment) -> None:
        with self._lock:
            self._held[(seg.session_id, seg.index)] = seg

    def held(self) -> list[Segment]:
        with self._lock:
            return sorted(self._held.values(), key=lambda s: (s.session_id, s.index))

    def release_due(self) -> list[Segment]:
        """Hand every segment whose hold expired to ``on_ready``; returns them."""
        cutoff = self.now() - self.hold_seconds
        with self._lock:
            due = [k for k, s in self._held.items() if self.hold_seconds <= 0 or s.mtime() <= cutoff]
            segs = [self._held.pop(k) for k in due]
        for seg in segs:
            self.handed.append(seg)
            if self.on_ready is not None:
                self.on_ready(seg)
        return segs

    def purge(self) -> list[Path]:
        """Delete every held segment's files; returns the deleted paths."""
        with self._lock:
            segs = list(self._held.values())
            self._held.clear()
        deleted: list[Path] = []
        for seg in segs:
            for p in seg.paths():
                try:
                    p.unlink()
                    deleted.append(p)
                except FileNotFoundError:
                    pass
        return deleted


def purge_recent(folder: Path, seconds: float = 600.0, now: float | None = None) -> list[Path]:
    """Delete segments in ``folder`` written in the last ``seconds`` (panic without a recorder)."""
    cutoff = (time.time() if now is None else now) - seconds
    deleted: list[Path] = []
    if not Path(folder).is_dir():
        return deleted
    for seg in list_segments(folder):
        if seg.mtime() > cutoff:
            for p in seg.paths():
                try:
                    p.unlink()
                    deleted.append(p)
                except FileNotFoundError:
                    pass
    return deleted
