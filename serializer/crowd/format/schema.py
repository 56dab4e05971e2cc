"""The event vocabulary of a crowd recording (documented in docs/format.md).

Events are plain dicts so that the hot path (thousands of edits a second) pays no object
construction or validation cost; ``validate_event`` is for readers, importers and tests.
Every event carries ``seq`` (1-based, per recording), ``t`` (microseconds on the monotonic
clock since the session started) and ``wall`` (Unix epoch milliseconds).
"""
from __future__ import annotations

from typing import Any

FORMAT_NAME = "crowd-recording"
FORMAT_VERSION = 1

# Who caused an action. ``agent`` may carry an ``agent`` name (claude, codex, cursor...).
SOURCES = ("user", "agent", "git", "git_checkout", "external", "unknown")

EVENT_TYPES = ("session", "action", "observation", "snapshot", "redaction")

SESSION_KINDS = ("start", "pause", "resume", "stop", "panic", "consent", "error", "settings")
ACTION_KINDS = (
    "open",             # file: a document was opened in the editor
    "close",            # file: a document was closed
    "save",             # file: the user saved a document
    "edit",             # changes: [{offset, length, text}] in UTF-16 units, reason undo|redo
    "selection",        # selections: [{anchor, active}] offsets, all cursors
    "tab_switch",       # file, previous_file
    "editor_command",   # command id the user ran that edits beyond the viewport (rename...)
    "window_focus",     # focused: bool
    "file_change",      # change: create|change|delete|rename, diff, old_file for rename
    "terminal_open", "terminal_close", "terminal_focus", "terminal_resize",
    "terminal_command",  # command line, cwd, exit_code, start/end
    "terminal_input",    # keys typed / pasted into a recorded PTY
)
OBSERVATION_KINDS = (
    "viewport",        # editors: [{file, visible_ranges, text, selections, active}]
    "file_content",    # file, text: full text of a file the first time it is seen
    "terminal_screen",  # terminal id, rows, cols, lines, cursor, focused, title
)

_REQUIRED = ("seq", "t", "wall", "type", "kind")

# What a value in an event may be (docs/format.md, "Values"): msgpack carries integers in
# int64/uint64 only, strings as UTF-8 (so no lone UTF-16 surrogates), and the readers walk
# nested values recursively, so nesting is bounded well below Python's recursion limit.
# crowd.pipeline fits every event to these before it reaches a writer.
INT_MIN = -(2 ** 63)
INT_MAX = 2 ** 64 - 1
MAX_DEPTH = 64          # containers inside an event (the event itself is level 1)


def make_event(type_: str, kind: str, *, seq: int, t: int, wall: int, **fields: Any) -> dict[str, Any]:
    """Build an event dict with the common header in a fixed key order."""
    event: dict[str, Any] = {"seq": seq, "t": t, "wall": wall, "type": type_, "kind": kind}
    event.update(fields)
    return event


class SchemaError(ValueError):
    """An event that does not follow docs/format.md."""


def validate_event(event: dict[str, Any]) -> None:
    """Raise SchemaError when ``event`` breaks the format's invariants."""
    for key in _REQUIRED:
        if key not in event:
            raise SchemaError(f"event lacks {key!r}: {event!r:.200}")
    if event["type"] not in EVENT_TYPES:
        raise SchemaError(f"unknown event type {event['type']!r}")
    if event["type"] == "action":
        if event["kind"] not in ACTION_KINDS:
            raise SchemaError(f"unknown action kind {event['kind']!r}")
        if event.get("source") not in SOURCES:
            raise SchemaError(f"action without a valid source: {event.get('source')!r}")
    if event["type"] == "observation" and event["kind"] not in OBSERVATION_KINDS:
        raise SchemaError(f"unknown observation kind {event['kind']!r}")
    path = event.get("file")
    if isinstance(path, str) and (path.startswith("/") or path.startswith("~") or ":\\" in path):
        raise SchemaError(f"absolute path in a recording: {path!r}")
