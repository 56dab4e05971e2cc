"""The sidecar's copy of every open editor document, kept in step by applying edits.

Editors report edits as UTF-16 offsets (VS Code's unit) while Python strings index code
points. For documents without characters outside the Basic Multilingual Plane the two
agree, so the common case is plain slicing; documents holding emoji or other astral
characters go through a UTF-16 conversion. Bad edits (out of range, splitting a surrogate
pair) are refused with a clear message and leave the document as it was.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class EditError(ValueError):
    """An edit that cannot apply to the document as the sidecar knows it."""


def clean_text(text: str) -> tuple[str, bool]:
    """Replace lone UTF-16 surrogates (invalid in UTF-8, so unwritable) by U+FFFD.

    Returns (text, changed). U+FFFD is one UTF-16 unit, like the surrogate it replaces,
    so offsets after it stay valid.
    """
    if text.isascii():
        return text, False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", text), True
    return text, False


def has_astral(text: str) -> bool:
    return not text.isascii() and _ASTRAL.search(text) is not None


def utf16_len(text: str) -> int:
    if text.isascii() or not has_astral(text):
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def utf16_to_index(text: str, offset: int) -> int:
    """Code-point index of a UTF-16 offset in ``text`` (astral characters count 2)."""
    if offset < 0:
        raise EditError(f"negative offset {offset}")
    units = 0
    for index, char in enumerate(text):
        if units >= offset:
            if units != offset:
                raise EditError(f"offset {offset} splits a surrogate pair")
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    if units == offset:
        return len(text)
    if units > offset:
        raise EditError(f"offset {offset} splits a surrogate pair")
    raise EditError(f"offset {offset} is past the end of the document ({units} UTF-16 units)")


@dataclass
class Document:
    uri: str
    rel: str | None            # recorded path; None for documents outside the workspace
    text: str
    version: int = 0
    language_id: str = ""
    astral: bool = False
    _lines: list[int] | None = field(default=None, repr=False)   # line start offsets (code points)

    def __post_init__(self) -> None:
        self.astral = has_astral(self.text)

    def set_text(self, text: str) -> None:
        self.text = text
        self.astral = has_astral(text)
        self._lines = None

    def apply(self, changes: list[dict], version: int | None = None) -> None:
        """Apply ``changes`` ({offset, length, text}, relative to the text before, any order)."""
        text = self.text
        ordered = sorted(changes, key=lambda c: c["offset"], reverse=True) if len(changes) > 1 else changes
        size = len(text) if not self.astral else None
        previous_start = None
        for change in ordered:
            offset, length, new = change["offset"], change["length"], change["text"]
            if not isinstance(offset, int) or not isinstance(length, int) or not isinstance(new, str):
                raise EditError(f"change needs integer offset/length and string text, got {change!r:.120}")
            if offset < 0 or length < 0:
                raise EditError(f"negative offset/length ({offset}, {length})")
            if size is not None:
                start, end = offset, offset + length
                if end > size:
                    raise EditError(f"range {offset}+{length} is past the end of the document ({size} UTF-16 units)")
            else:
                start = utf16_to_index(text, offset)
                end = utf16_to_index(text, offset + length)
            if previous_start is not None and end > previous_start:
                raise EditError("changes overlap")
            text = text[:start] + new + text[end:]
            previous_start = start
            if size is not None and not new.isascii() and has_astral(new):
                size = None
        self.text = text
        if not self.astral:
            self.astral = any(not c["text"].isascii() and has_astral(c["text"]) for c in changes)
        self._lines = None
        if version is not None:
            self.version = version

    # -- lines ----------------------------------------------------------------------------
    def line_starts(self) -> list[int]:
        if self._lines is None:
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos >= 0:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._lines = starts
        return self._lines

    def line_count(self) -> int:
        return len(self.line_starts())

    def lines_text(self, start_line: int, end_line: int) -> str:
        """Text of lines ``start_line..end_line`` (0-based, inclusive, clamped), without the final newline."""
        starts = self.line_starts()
        last = len(starts) - 1
        start_line = min(max(start_line, 0), last)
        end_line = min(max(end_line, start_line), last)
        begin = starts[start_line]
        end = starts[end_line + 1] - 1 if end_line < last else len(self.text)
        chunk = self.text[begin:end]
        return chunk[:-1] if chunk.endswith("\r") else chunk

    def offset_of(self, line: int, character: int) -> int:
        """UTF-16 offset of a (line, character) position, clamped to the document."""
        starts = self.line_starts()
        line = min(max(line, 0), len(starts) - 1)
        base = starts[line]
        if not self.astral:
            end = starts[line + 1] - 1 if line + 1 < len(starts) else len(self.text)
            return base + min(max(character, 0), end - base)
        return utf16_len(self.text[:base]) + max(character, 0)


class DocumentStore:
    """Open documents by URI."""

    def __init__(self) -> None:
        self.by_uri: dict[str, Document] = {}

    def open(self, uri: str, rel: str | None, text: str, version: int = 0, language_id: str = "") -> Document:
        doc = Document(uri, rel, text, version, language_id)
        self.by_uri[uri] = doc
        return doc

    def get(self, uri: str) -> Document | None:
        return self.by_uri.get(uri)

    def close(self, uri: str) -> Document | None:
        return self.by_uri.pop(uri, None)

    def by_rel(self, rel: str) -> Document | None:
        for doc in self.by_uri.values():
            if doc.rel == rel:
                return doc
        return None

    def __len__(self) -> int:
        return len(self.by_uri)
