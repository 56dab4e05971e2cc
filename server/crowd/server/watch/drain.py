"""Catching up with the kernel before the watcher stops.

WHY: a file written a moment before the session stops has its inotify event in the kernel
queue, or inside watchdog (its reader thread, a per-watch queue that holds an unpaired
``moved_from`` up to 0.5 s, the observer's dispatch queue), but not yet in the watcher's own
queue. Stopping the observer then loses it, so the change would be missing from the
recording. inotify events of one observer are read from a single file descriptor in kernel
order, so a *fence* (a file created in a private temporary folder watched by the same
observer, never in the workspace) proves that everything the kernel reported before it has
been read; then we wait for watchdog's delayed moves to be released and for the watcher's
worker to take what arrived.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler

log = logging.getLogger(__name__)

FENCE_TIMEOUT_S = 3.0
MOVE_DELAY_S = 0.6      # watchdog holds an unpaired moved_from 0.5 s


class _FenceHandler(FileSystemEventHandler):
    def __init__(self, path: str, seen: threading.Event) -> None:
        self.path = path
        self.seen = seen

    def on_any_event(self, event: FileSystemEvent) -> None:
        if os.fsdecode(event.src_path) == self.path:
            self.seen.set()


def pass_fence(observer: Any, timeout: float = FENCE_TIMEOUT_S) -> bool:
    """True once every event the kernel queued before this call has been read by watchdog."""
    folder = tempfile.mkdtemp(prefix="crowd-fence-")
    try:
        fence = os.path.join(folder, "fence")
        seen = threading.Event()
        watch = observer.schedule(_FenceHandler(fence, seen), folder, recursive=False)
        try:
            with open(fence, "wb"):
                pass
            ok = seen.wait(timeout)
        finally:
            try:
                observer.unschedule(watch)
            except Exception:  # noqa: BLE001 - the observer may already be going away
                pass
        if not ok:
            log.warning("watch: the stop fence did not come back within %.1f s", timeout)
        return ok
    except Exception:  # noqa: BLE001 - best effort: never block a stop on this
        log.exception("watch: the stop fence failed")
        return False
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _delayed_moves(observer: Any) -> int | None:
    """Unpaired moves watchdog still holds back (None: this watchdog does not say)."""
    total = 0
    try:
        for emitter in list(observer.emitters):
            group = getattr(emitter, "_inotify", None)
            if group is None:
                continue
            total += len(group._move_event_grouper._queue._queue)  # noqa: SLF001
    except AttributeError:
        return None
    return total


def wait_delayed_moves(observer: Any) -> None:
    """Wait until watchdog released the moves it holds for pairing (at most MOVE_DELAY_S)."""
    deadline = time.monotonic() + MOVE_DELAY_S
    pending = _delayed_moves(observer)
    if pending is None:
        time.sleep(MOVE_DELAY_S)
        return
    while pending and time.monotonic() < deadline:
        time.sleep(0.02)
        pending = _delayed_moves(observer)
