"""watchdog behind one small adapter: the only module of the watcher that imports it.

WHY: the watcher needs three things watchdog has no stable public API for: knowing that
the kernel dropped events (an inotify queue overflow), knowing how many unpaired moves
watchdog still holds back for pairing (up to 0.5 s, so a stop does not lose them), and
plain ordered events. How those are exposed changed between releases (6.x only logged the
overflow; 7.x adds an ``events_lost`` event; the held-back moves sit in a private queue whose
layout is release-specific), so everything that depends on a release is here, next to the
range it was written and tested for, and checked against the installed version:

- below ``SUPPORTED_MIN``: ``WatchdogVersionError`` (the watcher cannot work);
- at or above ``SUPPORTED_BELOW``: one warning, and the release-specific parts fall back to
  what needs no internals (the overflow from the log text, a fixed wait for held-back moves).
"""
from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version as dist_version
from typing import Any, NamedTuple

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

try:   # watchdog >= 7: an overflow is an event in the stream, in kernel order
    from watchdog.events import EVENT_TYPE_EVENTS_LOST
except ImportError:   # watchdog 6: only its log says so
    EVENT_TYPE_EVENTS_LOST = None

log = logging.getLogger(__name__)

SUPPORTED_MIN = (6, 0)        # pyproject: watchdog>=6
SUPPORTED_BELOW = (8, 0)      # written and tested against 7.1
HELD_MOVES_LAYOUT = ((7, 0), (8, 0))   # releases whose held-back-move queue layout was verified
MOVE_DELAY_S = 0.6            # watchdog holds an unpaired moved_from 0.5 s
OVERFLOW_LOGGERS = ("watchdog.observers.inotify_c", "watchdog.observers.inotify")
IGNORED_KINDS = ("opened", "closed_no_write")


class WatchdogVersionError(RuntimeError):
    """The installed watchdog is older than the adapter supports."""


def parse_version(text: str) -> tuple[int, ...]:
    """The leading numeric parts of a version string: "7.1.1" -> (7, 1, 1), "8.0rc1" -> (8, 0)."""
    parts: list[int] = []
    for piece in text.split("."):
        match = re.match(r"\d+", piece)
        if match is None:
            break
        parts.append(int(match.group()))
        if match.end() != len(piece):
            break
    if not parts:
        raise ValueError(f"not a version: {text!r}")
    return tuple(parts)


def installed_version() -> str:
    try:
        return dist_version("watchdog")
    except PackageNotFoundError:
        raise WatchdogVersionError("watchdog is not installed (pip install 'watchdog>=6')") from None


def check_version(text: str | None = None) -> tuple[int, ...]:
    """The watchdog version (installed, or ``text``), checked against the supported range."""
    text = installed_version() if text is None else text
    found = parse_version(text)
    if found < SUPPORTED_MIN:
        raise WatchdogVersionError(
            f"watchdog {text} is too old: the file watcher needs watchdog >= "
            f"{'.'.join(map(str, SUPPORTED_MIN))} (pip install -U watchdog)")
    if found >= SUPPORTED_BELOW:
        log.warning("watchdog %s is newer than the watcher was tested with (< %s): overflow detection and "
                    "the stop drain use their fallbacks", text, ".".join(map(str, SUPPORTED_BELOW)))
    return found


class RawEvent(NamedTuple):
    """One filesystem event as the watcher needs it (paths decoded, absolute)."""
    t_ns: int                 # monotonic time it was received
    kind: str                 # created | modified | deleted | moved | closed | attrib ...
    src: str
    dest: str | None
    is_dir: bool


class _Relay(FileSystemEventHandler):
    def __init__(self, sink: Callable[[RawEvent], None], on_lost: Callable[[], None]) -> None:
        self.sink = sink
        self.on_lost = on_lost

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        if kind in IGNORED_KINDS:
            return
        if EVENT_TYPE_EVENTS_LOST is not None and kind == EVENT_TYPE_EVENTS_LOST:
            self.on_lost()
            return
        src = os.fsdecode(event.src_path)
        dest = os.fsdecode(event.dest_path) if event.dest_path else None
        self.sink(RawEvent(time.monotonic_ns(), kind, src, dest, event.is_directory))


class _OverflowLog(logging.Handler):
    """watchdog 6 reports a kernel queue overflow only in its log."""

    def __init__(self, on_lost: Callable[[], None]) -> None:
        super().__init__(logging.WARNING)
        self.on_lost = on_lost

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.on_lost()


class Watch(NamedTuple):
    """A watch added by ``FolderObserver.add``; give it back to ``remove``."""
    handle: Any


class FolderObserver:
    """One watchdog observer: ordered events of every watched folder, and lost-event notices.

    ``sink(RawEvent)`` and ``on_lost()`` run on watchdog's dispatch thread, in kernel order
    for the watches of this observer (one inotify file descriptor).
    """

    def __init__(self, sink: Callable[[RawEvent], None], on_lost: Callable[[], None]) -> None:
        self.version = check_version()
        self._on_lost = on_lost
        self._relay = _Relay(sink, self._lost)
        self._observer = Observer()
        self._log_handler = _OverflowLog(self._lost) if EVENT_TYPE_EVENTS_LOST is None else None

    def _lost(self) -> None:
        log.warning("watch: events were lost (inotify queue overflow); rescanning")
        self._on_lost()

    def watch(self, path: str, *, recursive: bool) -> Watch:
        """Send ``path``'s events to the sink."""
        return Watch(self._observer.schedule(self._relay, path, recursive=recursive))

    def add(self, path: str, on_event: Callable[[RawEvent], None]) -> Watch:
        """Send ``path``'s own events (not recursive) to ``on_event`` instead (the stop fence)."""
        return Watch(self._observer.schedule(_Relay(on_event, self._lost), path, recursive=False))

    def remove(self, watch: Watch) -> None:
        self._observer.unschedule(watch.handle)

    def start(self) -> None:
        if self._log_handler is not None:
            for name in OVERFLOW_LOGGERS:
                logging.getLogger(name).addHandler(self._log_handler)
        self._observer.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._observer.stop()
        self._observer.join(timeout=timeout)
        if self._log_handler is not None:
            for name in OVERFLOW_LOGGERS:
                logging.getLogger(name).removeHandler(self._log_handler)

    def held_moves(self) -> int | None:
        """Unpaired moves watchdog still holds back for pairing (None: unknown for this release)."""
        low, below = HELD_MOVES_LAYOUT
        if not low <= self.version < below:
            return None
        total = 0
        try:
            for emitter in list(self._observer.emitters):
                # release-specific internals, verified for HELD_MOVES_LAYOUT; other platforms'
                # emitters hold no moves back
                group = getattr(emitter, "_inotify", None)
                if group is not None:
                    total += len(group._move_event_grouper._queue._queue)  # noqa: SLF001
        except AttributeError:
            return None
        return total

    def wait_held_moves(self) -> None:
        """Wait until watchdog released the moves it holds for pairing (at most MOVE_DELAY_S).

        watchdog signals no event when it releases them: this polls its queue every 20 ms,
        or, where the queue cannot be read, waits the whole delay."""
        deadline = time.monotonic() + MOVE_DELAY_S
        pending = self.held_moves()
        if pending is None:
            time.sleep(MOVE_DELAY_S)
            return
        while pending and time.monotonic() < deadline:
            time.sleep(0.02)
            pending = self.held_moves()
