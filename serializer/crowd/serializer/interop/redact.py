"""Imports pass through the same redaction as live recording: the recording pipeline.

crowd-code data was captured without any secret scrubbing (terminal output, snapshots of the
whole workspace). Before it becomes a crowd recording every event goes through
``crowd.pipeline.RecordingPipeline`` (the path the sidecar and ``crowd term`` write through,
here without the typing guard: imported keystrokes are not live, there is nothing to hold
them for): secrets are replaced by ``[REDACTED:<kind>]`` with a ``redaction`` event after the
event, and files on secret paths (``.env``, keys...) are dropped entirely. Redaction fails
closed: an event the redactor cannot scrub is replaced by a ``session``/``error`` event.
Replacing a secret inside an edit's text changes that text's length; later offsets into the
same file can then be off, which the replay reports rather than hides (so the notes keep only
``what``/``where``/``file``, as before, not the offsets a replay would map).
"""
from __future__ import annotations

from typing import Any

from crowd.pipeline import ListWriter, RecordingPipeline, open_redactor
from crowd.privacy import is_secret_path

NOTE_FIELDS = frozenset({"seq", "t", "wall", "type", "kind", "what", "where", "file"})


def redact_events(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, list[str]]:
    """(scrubbed events renumbered, number of redactions, secret files left out)."""
    sink = ListWriter()
    pipeline = RecordingPipeline(sink, open_redactor(), typing_guard=False)
    dropped: list[str] = []
    for ev in events:
        path = ev.get("file")
        if isinstance(path, str) and is_secret_path(path):
            if path not in dropped:
                dropped.append(path)
            continue
        ev.setdefault("t", 0)
        ev.setdefault("wall", 0)
        pipeline.write(ev)
    pipeline.close()
    out = [{k: v for k, v in ev.items() if k in NOTE_FIELDS} if ev.get("type") == "redaction" else ev
           for ev in sink.events]
    return out, pipeline.redactions, dropped
