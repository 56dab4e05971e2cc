"""Keystrokes and the token they build: what counts as one typed key, and when a token ends.

A secret typed one character at a time never appears whole in any single edit event, so
keystroke events (a one-character user edit, or a one-character ``terminal_input``) are
grouped into *tokens*, the run of characters between boundaries (shapes.BOUNDARY), per
stream: ``("edit", file)`` or ``("term", terminal id)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crowd.privacy.typing.shapes import BACKSPACE, FREE

Stream = tuple[str, str]
Event = dict[str, Any]


@dataclass
class Token:
    stream: Stream                    # ("edit", file) or ("term", terminal id)
    start_offset: int                 # document offset of the first typed char (edits)
    next_offset: int
    context: str = ""                 # the line before the token
    hot: bool = False                 # a secret keyword before the token's tail
    text: str = ""
    tail_start: int = 0               # where the part after the last TAIL_SEPARATOR begins
    state: int = FREE                 # FREE (written at once) or FIRM (held)
    held_from: int = 0                # len(text) when the hold began (chars before: written)
    min_len: int = 0                  # shortest len(text) since the hold began (backspaces)
    events: list[Event] = field(default_factory=list)   # held keystroke events
    started: float = 0.0              # when the hold began
    last: float = 0.0

    def continues_at(self, ch: str, offset: int) -> bool:
        """Whether a key at document ``offset`` continues this token (edits only)."""
        if ch in BACKSPACE:
            return offset == self.next_offset - 1 and offset >= self.start_offset
        return offset == self.next_offset

    def broken_by(self, event: Event) -> bool:
        """Another action on the token's own stream (a paste, an undo) ends the token."""
        if event.get("type") != "action":
            return False
        if self.stream[0] == "edit":
            return event.get("kind") in ("edit", "file_change") and str(event.get("file")) == self.stream[1]
        return event.get("kind") == "terminal_input" and str(event.get("terminal")) == self.stream[1]


def keystroke(event: Event) -> tuple[Stream, str, int] | None:
    """(stream, char or BACKSPACE, offset) when ``event`` is a single typed key, else None."""
    if event.get("type") != "action":
        return None
    kind = event.get("kind")
    if kind == "edit":
        if event.get("source") != "user" or event.get("reason"):
            return None
        changes = event.get("changes")
        if not changes or len(changes) != 1:
            return None
        c = changes[0]
        text, length = c.get("text", ""), c.get("length", 0)
        if length == 0 and len(text) == 1:
            return ("edit", str(event.get("file"))), text, c.get("offset", 0)
        if length == 1 and text == "":
            return ("edit", str(event.get("file"))), "\x7f", c.get("offset", 0)
        return None
    if kind == "terminal_input" and not event.get("paste"):
        data = event.get("data")
        if isinstance(data, str) and len(data) == 1 and (data.isprintable() or data in BACKSPACE):
            return ("term", str(event.get("terminal"))), data, -1
    return None
