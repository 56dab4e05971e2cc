"""Open any supported input as a list of our events: our recordings, crowd-code 2.0, 1.0 CSV.

Every consumer (replay, dataset, export, inspect) goes through ``load_events`` so that each
one accepts every input the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from crowd.serializer.bulk import bulk


@dataclass
class Loaded:
    events: list[dict[str, Any]]
    format: str                     # "crowd", "crowd-code-2.0", "crowd-code-1.0"
    problems: list[str] = field(default_factory=list)
    torn_tail: bool = False
    path: Path | None = None

    @property
    def session_id(self) -> str | None:
        for ev in self.events[:5]:
            if ev.get("type") == "session" and ev.get("kind") == "start":
                return ev.get("session_id")
        return None


class UnknownInput(ValueError):
    """Not a crowd recording, crowd-code 2.0 session or crowd-code 1.0 CSV."""


def detect(path: Path) -> str:
    from crowd.serializer.interop.cc1_import import is_cc1
    from crowd.serializer.interop.cc2_import import is_cc2

    path = Path(path)
    if not path.exists():
        raise UnknownInput(f"{path} does not exist")
    if path.is_dir() and any(path.glob("seg-*.crowd")) or path.suffix == ".crowd":
        return "crowd"
    if is_cc1(path):
        return "crowd-code-1.0"
    if is_cc2(path):
        return "crowd-code-2.0"
    raise UnknownInput(f"{path}: not a crowd recording (seg-*.crowd), a crowd-code 2.0 session "
                       "(folder, temp/, chunk_NNN.json or source_part_NNN.tar.gz) or a crowd-code 1.0 CSV")


@bulk
def load_events(path: Path | str, redact: bool = True) -> Loaded:
    """Events of any supported input. crowd-code inputs were never scrubbed, so by default
    they pass through the privacy redactor (our own recordings already did, when recorded)."""
    path = Path(path)
    kind = detect(path)
    if kind == "crowd":
        from crowd.format import read_recording

        res = read_recording(path)
        return Loaded(res.events, kind, res.problems, res.torn_tail, path)
    if kind == "crowd-code-1.0":
        from crowd.serializer.interop.cc1_import import import_cc1

        events, problems = import_cc1(path)
        events, problems = _redacted(events, problems, redact)
        return Loaded(events, kind, problems, False, path)
    from crowd.serializer.interop.cc2_import import import_cc2

    events, problems = import_cc2(path)
    events, problems = _redacted(events, problems, redact)
    return Loaded(events, kind, problems, False, path)


def _redacted(events: list[dict[str, Any]], problems: list[str], redact: bool):
    if not redact:
        return events, problems
    try:
        from crowd.serializer.interop.redact import redact_events
    except ImportError:  # the sidecar package is not installed: say so, do not pretend
        return events, problems + ["not redacted: crowd.privacy is not available"]
    events, count, dropped = redact_events(events)
    notes = [f"redacted {count} secrets"] if count else []
    notes += [f"left out {len(dropped)} secret files"] if dropped else []
    return events, problems + notes
