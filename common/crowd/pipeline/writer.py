"""What the pipeline writes to: ``RecordingWriter`` for live recordings, a list for imports.

The pipeline only needs these few methods, so it is typed against this protocol rather than
the concrete writer: importers collect events in memory (``ListWriter``) and tests can pass
their own.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Event = dict[str, Any]


class EventWriter(Protocol):
    """The writer side of a recording (crowd.format.RecordingWriter has exactly this)."""

    events_written: int
    bytes_written: int

    def extend(self, events: list[Event]) -> None: ...

    def flush(self) -> int: ...

    def rotate(self) -> None: ...

    def close(self) -> None: ...

    def drop_where(self, doomed: Callable[[Event], bool]) -> int: ...


class ListWriter:
    """Keeps what is written in ``events`` (importers, which return events instead of files)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.events_written = 0
        self.bytes_written = 0

    def extend(self, events: list[Event]) -> None:
        self.events.extend(events)
        self.events_written += len(events)

    def flush(self) -> int:
        return 0

    def rotate(self) -> None:
        pass

    def close(self) -> None:
        pass

    def drop_where(self, doomed: Callable[[Event], bool]) -> int:
        before = len(self.events)
        self.events = [e for e in self.events if not doomed(e)]
        return before - len(self.events)
