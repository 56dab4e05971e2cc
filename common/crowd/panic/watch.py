"""Live recorders learn of a panic pressed elsewhere (another editor window's sidecar).

A thread looks at the journal every ``interval`` seconds (a ``stat``: ~2 µs) and hands each
new request to ``on_request`` once: the recorder deletes the windows from its own writer and
re-bases its live state, then marks its folder done. Measured need: a sidecar pressing panic
waits up to a few seconds for the others, so 0.5 s keeps the whole panic short.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from crowd.panic.journal import PanicRequest, journal_file, pending

log = logging.getLogger(__name__)

POLL_S = 0.5


class PanicWatcher:
    def __init__(self, on_request: Callable[[PanicRequest], None], *, home: Path | None = None,
                 interval: float = POLL_S) -> None:
        self.on_request = on_request
        self.home = home
        self.interval = interval
        self.handled: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crowd-panic-watch", daemon=True)

    def start(self) -> PanicWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def check(self) -> None:
        if not journal_file(self.home).exists():
            return
        try:
            request = pending(self.home)
        except ValueError:
            log.exception("panic journal")
            return
        if request is None or request.id in self.handled:
            return
        self.handled.add(request.id)
        self.on_request(request)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the next look tries again
                log.exception("handling a panic request failed")
