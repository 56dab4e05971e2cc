"""Documents addressed the way editors address them: UTF-16 code units and VS Code lines.

Python strings index code points, VS Code (and so every recorded offset) counts UTF-16
code units: an emoji is one code point but two units. Converting on every edit would be
slow, so a document remembers whether it holds any astral character at all and only then
pays for the conversion. Lines break at ``\\r\\n``, ``\\r`` or ``\\n`` exactly like VS Code
(``str.splitlines`` would also break at form feeds and U+2028, which editors do not).
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


def has_astral(text: str) -> bool:
    return _ASTRAL.search(text) is not None


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units."""
    if not has_astral(text):
        return len(text)
    return len(text) + len(_ASTRAL.findall(text))


def u16_to_index(text: str, offset: int) -> int:
    """Code-point index of UTF-16 ``offset`` in ``text`` (clamped to the text).

    An offset inside a surrogate pair maps to the start of that code point: an editor
    never leaves half a character behind.
    """
    if offset <= 0:
        return 0
    index = 0
    units = 0
    for match in _ASTRAL.finditer(text):
        start = match.start()
        if units + (start - index) >= offset:
            return index + (offset - units)
        units += start - index
        if units + 2 > offset:
            return start
        units += 2
        index = start + 1
        if units == offset:
            return index
    return min(len(text), index + (offset - units))


def index_to_u16(text: str, index: int) -> int:
    """UTF-16 offset of code-point ``index`` in ``text``."""
    index = max(0, min(index, len(text)))
    prefix = text[:index]
    return index + len(_ASTRAL.findall(prefix))


def split_lines(text: str) -> list[str]:
    """Lines as VS Code sees them (no line-break characters; a trailing break makes an empty last line)."""
    return LINE_BREAK.split(text)


@dataclass
class Change:
    """One replacement, in UTF-16 units relative to the document before the event."""
    offset: int
    length: int
    text: str


class Document:
    """Mutable text of one file, edited by UTF-16 ranges.

    ``complete`` is False when the replay never saw the file's full text (crowd-code 2.0
    imports): edits are still applied best-effort but nothing claims to know the file.
    """

    __slots__ = ("text", "astral", "complete", "version", "_ends", "_ends_of")

    def __init__(self, text: str = "", complete: bool = True) -> None:
        self.text = text
        self.astral = has_astral(text)
        self.complete = complete
        self.version = 0
        self._ends: list[int] = []
        self._ends_of: str | None = None

    def set_text(self, text: str, complete: bool = True) -> None:
        self.text = text
        self.astral = has_astral(text)
        self.complete = complete

    def _astral_ends(self) -> list[int]:
        """UTF-16 end offset of every astral character, cached per text (several lookups
        per edit and per observation share one scan)."""
        if self._ends_of is not self.text:
            self._ends = [m.start() + j + 2 for j, m in enumerate(_ASTRAL.finditer(self.text))]
            self._ends_of = self.text
        return self._ends

    def to_index(self, offset: int) -> int:
        if not self.astral:
            return max(0, min(offset, len(self.text)))
        if offset <= 0:
            return 0
        ends = self._astral_ends()
        k = bisect_right(ends, offset)          # astral characters wholly before ``offset``
        if k < len(ends) and ends[k] - 2 < offset:  # inside a surrogate pair: its start
            return ends[k] - 2 - k
        return min(len(self.text), offset - k)

    def to_offset(self, index: int) -> int:
        if not self.astral:
            return max(0, min(index, len(self.text)))
        index = max(0, min(index, len(self.text)))
        ends = self._astral_ends()
        # astral char j sits at code-point index ends[j] - 2 - j
        lo, hi = 0, len(ends)
        while lo < hi:
            mid = (lo + hi) // 2
            if ends[mid] - 2 - mid < index:
                lo = mid + 1
            else:
                hi = mid
        return index + lo

    def length16(self) -> int:
        return utf16_len(self.text) if self.astral else len(self.text)

    def apply(self, changes: list[dict] | list[Change]) -> list[tuple[int, str, str]]:
        """Apply changes (offsets relative to the text before the event).

        Returns ``(index, removed, inserted)`` per change, in application order (descending
        offsets), so callers can render diffs without re-deriving anything. Ranges past the
        end are clamped and reported by ``out_of_range``.
        """
        items = [(c["offset"], c["length"], c["text"]) if isinstance(c, dict) else (c.offset, c.length, c.text)
                 for c in changes]
        items.sort(key=lambda it: it[0], reverse=True)
        done = []
        text = self.text
        for offset, length, new in items:
            if self.astral:
                self.text = text
                start = self.to_index(offset)
                end = self.to_index(offset + length)
            else:
                start = min(max(offset, 0), len(text))
                end = min(max(offset + length, start), len(text))
            removed = text[start:end]
            text = text[:start] + new + text[end:]
            if not self.astral and new and has_astral(new):
                self.astral = True
            done.append((start, removed, new))
        self.text = text
        if self.astral and not has_astral(text):
            self.astral = False
        self.version += 1
        return done

    def position(self, offset: int) -> tuple[int, int]:
        """(line, character) of a UTF-16 offset; character in UTF-16 units."""
        index = self.to_index(offset)
        return index_position(self.text, index, self.astral)

    def offset_at(self, line: int, character: int) -> int:
        """UTF-16 offset of (line, character), clamped like VS Code's validatePosition."""
        start = line_start_index(self.text, line)
        if start is None:
            return self.length16()
        end_match = LINE_BREAK.search(self.text, start)
        line_end = end_match.start() if end_match else len(self.text)
        line_text = self.text[start:line_end]
        char_index = u16_to_index(line_text, character) if self.astral else min(character, len(line_text))
        return self.to_offset(start + char_index)

    def lines(self) -> list[str]:
        return split_lines(self.text)


def index_position(text: str, index: int, astral: bool | None = None) -> tuple[int, int]:
    """(line, UTF-16 character) of code-point ``index``."""
    nl = text.count("\n", 0, index)
    cr = text.count("\r", 0, index)
    crlf = text.count("\r\n", 0, index) if cr else 0
    # a "\r" right before index whose "\n" is at index is already a break start: counts once.
    line = nl + cr - crlf
    last_n = text.rfind("\n", 0, index)
    last_r = text.rfind("\r", 0, index)
    start = max(last_n, last_r) + 1
    char = index - start
    if astral is None or astral:
        char = utf16_len(text[start:index])
    return line, char


def line_start_index(text: str, line: int) -> int | None:
    """Code-point index where ``line`` starts, or None past the last line."""
    if line <= 0:
        return 0
    count = 0
    for match in LINE_BREAK.finditer(text):
        count += 1
        if count == line:
            return match.end()
    return None
