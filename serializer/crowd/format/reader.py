"""Reading a recording folder back, tolerating what a crash leaves behind.

A killed writer can leave a torn last frame; that is reported in ``ReadResult.problems``
and never raised, so a recording always opens. Damaged bytes in the middle are skipped
with a problem each, and reading resumes at the next frame.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crowd.format.frames import FILE_MAGIC, Frame, FrameProblem, scan_frames
from crowd.format.writer import list_segments


class NotARecording(ValueError):
    """The path is neither a recording folder nor a segment file."""


@dataclass
class ReadResult:
    events: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    torn_tail: bool = False
    segments: list[Path] = field(default_factory=list)

    @property
    def session_id(self) -> str | None:
        for event in self.events:
            if event.get("type") == "session" and event.get("kind") == "start":
                return event.get("session_id")
        return None


def _segments_of(path: Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        segments = list_segments(path)
        if segments:
            return segments
    raise NotARecording(f"{path} holds no crowd recording segments (seg-*.crowd)")


def iter_recording(path: Path | str, problems: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Yield events of a recording in order; damage is appended to ``problems``."""
    sink = problems if problems is not None else []
    for segment in _segments_of(Path(path)):
        data = segment.read_bytes()
        if not data.startswith(FILE_MAGIC):
            if len(data) < len(FILE_MAGIC) and FILE_MAGIC.startswith(data):
                sink.append(f"{segment.name}: torn tail: empty segment")
                continue
            sink.append(f"{segment.name}: not a crowd segment (bad file header)")
            continue
        for item in scan_frames(data, len(FILE_MAGIC)):
            if isinstance(item, Frame):
                yield from item.events
            else:
                prefix = "torn tail: " if item.torn_tail else ""
                sink.append(f"{segment.name}@{item.offset}: {prefix}{item.message}")


def read_recording(path: Path | str) -> ReadResult:
    """Read every recoverable event of a recording folder (or one segment file)."""
    result = ReadResult(segments=_segments_of(Path(path)))
    result.events = list(iter_recording(path, result.problems))
    result.torn_tail = any("torn tail" in p for p in result.problems)
    return result
