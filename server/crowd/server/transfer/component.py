"""The sidecar's upload component: queues the session's own finished files for upload.

Why a component: the sidecar is the only process that knows when one of its segments is
finished (the writer rotated, or the session stopped) and when the user pressed panic, so
the hand-off to the persisted :class:`UploadQueue` belongs here rather than in a periodic
scan of the recordings folder (``crowd upload run`` remains the crash-recovery path).

What it does, only while the session's ``upload`` setting is on *and* upload consent was
granted (``crowd upload consent grant``; checked before every hand-off, so revoking stops
it at once):
- on rotation (a later ``seg-*.crowd`` appeared; the previous one is finished, though its
  compaction may still run on the writer's background thread, which replaces the file
  atomically with the same events) it bundles the finished segments plus the snapshot
  files present, as one bundle of this session;
- at stop, right after the session's writer is closed (so the ``stop`` event is in the last
  segment), it bundles everything left as the session's ``final`` bundle. This runs inside
  ``Session.stop`` (the writer's ``close``), so a sidecar that exits right after (SIGTERM
  ends with ``os._exit``) has queued it already;
- ``panic(cutoff_t)`` maps the session clock to wall time and shreds the held bundles of
  this session whose content reaches past the cutoff (``UploadQueue.panic``); the session
  has already cut the events out of the segment files, whose survivors get bundled again.
It never sends anything: uploading is ``crowd upload run`` (consent, pause, hold, backoff).
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from crowd.server.components import Component, SidecarSession
from crowd.transfer.bundle import EDITOR_SEGMENT, editor_candidate
from crowd.transfer.queue import Bundle, UploadQueue

log = logging.getLogger(__name__)

DEFAULT_SCAN_S = 1.0


def upload_enabled(settings: dict[str, Any]) -> bool:
    """The editor's ``crowd.upload`` setting (off unless the user turned it on)."""
    return settings.get("upload") is True


def default_queue_dir() -> Path:
    from crowd.home import crowd_home  # noqa: PLC0415 - per-user paths only when used

    return crowd_home() / "upload"


class UploadComponent(Component):
    """``start(session)`` / ``stop()`` / ``panic(cutoff_t)``, see the module docstring."""

    def __init__(self, queue_dir: Path | str | None = None, *, scan_interval_s: float | None = None) -> None:
        self.queue_dir = Path(queue_dir) if queue_dir is not None else None
        self.scan_interval_s = scan_interval_s
        self.queue: UploadQueue | None = None
        self.session: SidecarSession | None = None
        self.directory: Path | None = None
        self.session_id: str | None = None
        self.bundles: list[Bundle] = []      # what this component queued (tests, status)
        self._lock = threading.Lock()        # one hand-off or panic at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen_segments = 0

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, session: SidecarSession) -> None:
        if not upload_enabled(session.settings) or session.directory is None or session.pipeline is None:
            return   # off: nothing is opened, nothing is queued
        self.session = session
        self.directory = Path(session.directory)
        self.session_id = session.session_id
        self.queue = UploadQueue(self.queue_dir or default_queue_dir())
        url = session.settings.get("uploadUrl")
        if isinstance(url, str) and url.startswith(("http://", "https://")) and self.queue.get("endpoint") != url:
            self.queue.set("endpoint", url)
        # the final bundle is queued once the session's writer is closed (everything on disk)
        session.pipeline.on_close(self._after_writer_closed)
        interval = self.scan_interval_s
        if interval is None:
            interval = float(session.settings.get("uploadScanSeconds", DEFAULT_SCAN_S))
        self._thread = threading.Thread(target=self._watch, args=(max(0.05, interval),),
                                        name="crowd-upload-enqueue", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; the final bundle follows when the session closes its writer."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def panic(self, cutoff_t: int) -> None:
        """Shred this session's held bundles with content at or after ``cutoff_t``."""
        if self.queue is None:
            return
        t_now, wall_ms = self.session.now()
        cutoff_wall = wall_ms / 1000.0 - max(0, t_now - cutoff_t) / 1e6
        with self._lock:
            removed = self.queue.panic(cutoff_wall, session_id=self.session_id, kind="editor")
            self.bundles = [b for b in self.bundles if b.id not in removed]
        if removed:
            log.info("panic: %d held upload bundle(s) of this session deleted", len(removed))

    # -- hand-offs -------------------------------------------------------------------------
    def allowed(self) -> bool:
        """Recording consent (the session's) and upload consent (the queue's), both now."""
        return bool(self.queue is not None and self.session is not None and self.session.consent
                    and self.queue.consent)

    def _finished_segments(self) -> int:
        assert self.directory is not None
        try:
            segments = [n for n in (p.name for p in self.directory.iterdir()) if EDITOR_SEGMENT.match(n)]
        except FileNotFoundError:
            return 0
        return max(0, len(segments) - 1)    # the newest one is being written

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                finished = self._finished_segments()
                if finished > self._seen_segments:
                    self._seen_segments = finished
                    self.enqueue(final=False)
                elif finished < self._seen_segments:   # panic removed some
                    self._seen_segments = finished
            except Exception:  # noqa: BLE001 - a failed hand-off is retried at the next rotation/stop
                log.exception("queueing finished segments for upload failed")

    def enqueue(self, *, final: bool) -> Bundle | None:
        """Bundle this session's finished files not yet queued (all of them when ``final``)."""
        if not self.allowed() or self.directory is None or not self.directory.is_dir():
            return None
        assert self.queue is not None
        with self._lock:
            # live: never the newest segment, however long it sat idle (it is still open)
            bundle = self.queue.add(editor_candidate(self.directory, final=final, idle_s=float("inf")))
            if bundle is not None:
                self.bundles.append(bundle)
                log.info("queued %s for upload (%d file(s), held %.0f s)", bundle.file_name,
                         len(bundle.sources), self.queue.hold_s)
        return bundle

    def _after_writer_closed(self) -> None:
        try:
            self.enqueue(final=True)
        except Exception:  # noqa: BLE001 - never break stopping; `crowd upload run` finds it later
            log.exception("queueing the finished recording for upload failed")
        finally:
            if self.queue is not None:
                self.queue.close()
                self.queue = None
