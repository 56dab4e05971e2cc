"""Focus information, the backend interface, and the allowlist decision.

The decision is a *context label*: the app id when the focused app is on the allowlist, else
``UNCAPTURED``; ``UNKNOWN`` when focus cannot be determined. The recorder records content
and input only under an app-id label, so everything that is not a positive match fails
closed: no window manager, a destroyed window, a window without WM_CLASS, the recorder's own
windows.
"""
from __future__ import annotations

import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from crowd.format.desktop.keylog import UNCAPTURED, UNKNOWN

# App ids of crowd itself: never recorded, whatever the allowlist says.
SELF_APP_IDS = frozenset({"crowd", "crowd-cast", "crowdcast", "crowd.capture"})


@dataclass(frozen=True)
class FocusInfo:
    """The focused application.

    ``app_id`` is what ContextChanged records and what the setup step stores (X11: WM_CLASS
    class; macOS: bundle id; Windows: executable name). ``aliases`` are other names a user may
    have put on the allowlist (WM_CLASS instance, localized app name, full exe path's stem).
    ``title`` is only for the setup picker and never written to a recording.
    """
    app_id: str
    pid: int | None = None
    aliases: tuple[str, ...] = ()
    title: str | None = field(default=None, compare=False)

    def names(self) -> set[str]:
        return {n.lower() for n in (self.app_id, *self.aliases) if n}


class Allowlist:
    """Decides the context label for a focus sample.

    ``apps`` are matched case-insensitively against the app id and its aliases; ``["*"]``
    means "record entire screen" (capture mode ``display``), still excluding crowd itself and
    still failing closed when focus is unknown.
    """

    def __init__(self, apps: Iterable[str] | None, own_pid: int | None = None) -> None:
        items = [a.strip() for a in (apps or []) if a and a.strip()]
        self.entire_screen = "*" in items
        self.apps = frozenset(a.lower() for a in items if a != "*")
        self.own_pid = os.getpid() if own_pid is None else own_pid

    @property
    def capture_mode(self) -> str:
        return "display" if self.entire_screen else "single_active_app"

    def label(self, focus: FocusInfo | None) -> str:
        if focus is None or not focus.app_id:
            return UNKNOWN
        if focus.pid is not None and focus.pid == self.own_pid:
            return UNCAPTURED
        names = focus.names()
        if names & SELF_APP_IDS:
            return UNCAPTURED
        if self.entire_screen or names & self.apps:
            return focus.app_id
        return UNCAPTURED

    @staticmethod
    def is_captured(label: str) -> bool:
        return label not in (UNCAPTURED, UNKNOWN)


class FocusSource(ABC):
    """A platform's focus backend. ``current()`` must be cheap and thread-safe."""

    platform: str = "linux"

    def start(self) -> None:
        """Begin tracking (open connections, start watcher threads)."""

    @abstractmethod
    def current(self) -> FocusInfo | None:
        """The focused app now, or None when it cannot be determined (fail closed)."""

    def query_now(self) -> FocusInfo | None:
        """A fresh reading where the platform allows a cheap synchronous one."""
        return self.current()

    def close(self) -> None:
        """Release connections and threads."""


class PollingFocusSource(FocusSource):
    """A backend that polls a platform query on a thread and caches the parsed result.

    ``query`` returns the platform's raw sample (or raises); ``parse`` turns it into a
    FocusInfo or None. Any exception counts as unknown focus. macOS and Windows use this with
    their native queries; tests drive it with recorded raw samples.
    """

    def __init__(self, query: Callable[[], Any], parse: Callable[[Any], FocusInfo | None],
                 interval: float = 0.1) -> None:
        self._query = query
        self._parse = parse
        self.interval = interval
        self._value: FocusInfo | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def poll_once(self) -> FocusInfo | None:
        try:
            value = self._parse(self._query())
        except Exception:  # noqa: BLE001 - a failing platform API means "unknown", never a crash
            value = None
        with self._lock:
            self._value = value
        return value

    def start(self) -> None:
        self.poll_once()
        self._thread = threading.Thread(target=self._run, name="crowd-focus", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll_once()

    def current(self) -> FocusInfo | None:
        with self._lock:
            return self._value

    def query_now(self) -> FocusInfo | None:
        return self.poll_once()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass (for callers awaiting focus)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
