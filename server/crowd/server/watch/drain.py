"""Catching up with the kernel before the watcher stops.

WHY: a file written a moment before the session stops has its inotify event in the kernel
queue, or inside watchdog (its reader thread, a per-watch queue that holds an unpaired
``moved_from`` up to 0.5 s, the observer's dispatch queue), but not yet in the watcher's own
queue. Stopping the observer then loses it, so the change would be missing from the
recording. inotify events of one observer are read from a single file descriptor in kernel
order, so a *fence* (a file created in a private temporary folder watched by the same
observer, never in the workspace) proves that everything the kernel reported before it has
been read; then we wait for watchdog's delayed moves to be released (observer.py) and for
the watcher's worker to take what arrived.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading

from crowd.server.watch.observer import FolderObserver, RawEvent

log = logging.getLogger(__name__)

FENCE_TIMEOUT_S = 3.0


def pass_fence(observer: FolderObserver, timeout: float = FENCE_TIMEOUT_S) -> bool:
    """True once every event the kernel queued before this call has been read by watchdog."""
    folder = tempfile.mkdtemp(prefix="crowd-fence-")
    try:
        fence = os.path.join(folder, "fence")
        seen = threading.Event()

        def on_event(event: RawEvent) -> None:
            if event.src == fence:
                seen.set()

        watch = observer.add(folder, on_event)
        try:
            with open(fence, "wb"):
                pass
            ok = seen.wait(timeout)
        finally:
            try:
                observer.remove(watch)
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
