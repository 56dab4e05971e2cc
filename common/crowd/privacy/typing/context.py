"""The line a token is typed on, read from the editor's open documents.

Without it the guard only knows what was typed since the line began; with it a value typed
after an existing ``password = "`` (written long ago, or pasted) is held from its first key.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

LineContext = Callable[[str, int], "str | None"]
MAX_CONTEXT = 400   # characters of the line looked at (the keyword detectors need far fewer)


class _Text(Protocol):
    @property
    def text(self) -> str: ...


class Documents(Protocol):
    """What the guard needs of the session's DocumentStore."""

    def by_rel(self, rel: str) -> _Text | None: ...


def document_line_context(documents: Documents) -> LineContext:
    """``(file, offset) -> text of that line before offset`` (None: the file is not open)."""
    def line_before(rel: str, offset: int) -> str | None:
        doc = documents.by_rel(rel)
        if doc is None:
            return None
        text = doc.text
        if offset > len(text):
            return None
        start = max(0, offset - MAX_CONTEXT)
        lo = text.rfind("\n", start, offset)
        return text[(lo + 1 if lo >= 0 else start):offset]

    return line_before
