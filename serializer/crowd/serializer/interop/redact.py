"""Imports pass through the same redaction as live recording.

crowd-code data was captured without any secret scrubbing (terminal output, snapshots of the
whole workspace). Before it becomes a crowd recording every event goes through the privacy
component's ``Redactor`` (server/privacy): secrets are replaced by ``[REDACTED:<kind>]`` with
a ``redaction`` event after the event, and files on secret paths (``.env``, keys...) are
dropped entirely. Replacing a secret inside an edit's text changes that text's length; later
offsets into the same file can then be off, which the replay reports rather than hides.
"""
from __future__ import annotations

from typing import Any


def redact_events(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, list[str]]:
    """(scrubbed events renumbered, number of redactions, secret files left out)."""
    from crowd.privacy.redactor import Redactor

    redactor = Redactor()
    out: list[dict[str, Any]] = []
    dropped: list[str] = []
    count = 0
    for ev in events:
        path = ev.get("file")
        if isinstance(path, str) and redactor.is_secret_path(path):
            if path not in dropped:
                dropped.append(path)
            continue
        notes = redactor.scrub_event(ev)
        out.append(ev)
        for note in notes:
            out.append({"seq": 0, "t": ev.get("t", 0), "wall": ev.get("wall", 0), "type": "redaction",
                        "kind": "redaction", **{k: v for k, v in note.items() if k in ("what", "where", "file")}})
        count += len(notes)
    for seq, ev in enumerate(out, start=1):
        ev["seq"] = seq
    return out, count, dropped
