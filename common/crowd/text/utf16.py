"""UTF-16 code units: the one place that converts between editor offsets and Python indices.

Python strings index code points; VS Code (and so every recorded offset) counts UTF-16 code
units, in which a character outside the Basic Multilingual Plane (an emoji, say) is a
surrogate pair of two units. The two counts agree for every text without such "astral"
characters, which is nearly all source code, so every helper here first asks whether the
text has one and otherwise costs a slice. When it does, ``Utf16Map`` lists where each astral
character ends (one regex scan, done in C) and converts by bisection, so a document with
emoji costs O(log n) per conversion instead of a Python loop over every character.

Two readers of offsets differ only in what they do with an offset that no editor could have
produced: the replayer clamps (a recording is replayed as far as it goes), the sidecar
refuses (its copy would silently diverge from the editor's). ``to_index`` clamps,
``exact_index`` raises ``OffsetError``; both share one conversion.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class OffsetError(ValueError):
    """A UTF-16 offset that no editor could produce for this text."""


def has_astral(text: str) -> bool:
    """True if ``text`` holds a character that takes two UTF-16 units."""
    return not text.isascii() and _ASTRAL.search(text) is not None


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units."""
    if not has_astral(text):
        return len(text)
    return len(text) + len(_ASTRAL.findall(text))


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


class Utf16Map:
    """Offset <-> index conversion for one text.

    ``ends[j]`` is the UTF-16 offset just after the j-th astral character, which therefore
    starts at code-point index ``ends[j] - 2 - j``. Build one per text and reuse it for
    several conversions (an edit converts two offsets, an observation many).
    """

    __slots__ = ("text", "ends")

    def __init__(self, text: str) -> None:
        self.text = text
        self.ends = [m.start() + j + 2 for j, m in enumerate(_ASTRAL.finditer(text))] if not text.isascii() else []

    @property
    def length(self) -> int:
        """Length of the text in UTF-16 units."""
        return len(self.text) + len(self.ends)

    def to_index(self, offset: int) -> int:
        """Code-point index of ``offset``, clamped to the text; inside a surrogate pair it is
        the start of that character (an editor never leaves half a character behind)."""
        if offset <= 0:
            return 0
        ends = self.ends
        k = bisect_right(ends, offset)          # astral characters wholly before ``offset``
        if k < len(ends) and ends[k] - 2 < offset:
            return ends[k] - 2 - k
        return min(len(self.text), offset - k)

    def exact_index(self, offset: int) -> int:
        """Code-point index of ``offset``; ``OffsetError`` if it is negative, past the end or
        splits a surrogate pair."""
        if offset < 0:
            raise OffsetError(f"negative offset {offset}")
        if offset > self.length:
            raise OffsetError(f"offset {offset} is past the end of the document ({self.length} UTF-16 units)")
        ends = self.ends
        k = bisect_right(ends, offset)
        if k < len(ends) and ends[k] - 2 < offset:
            raise OffsetError(f"offset {offset} splits a surrogate pair")
        return offset - k

    def to_offset(self, index: int) -> int:
        """UTF-16 offset of code-point ``index`` (clamped to the text)."""
        index = max(0, min(index, len(self.text)))
        if not self.ends:
            return index
        # astral characters starting before ``index``: those whose start ends[j] - 2 - j < index
        starts = _Starts(self.ends)
        return index + bisect_left(starts, index)


class _Starts:
    """Code-point start index of each astral character, computed on access for bisection
    (the list of ends is sorted, and so are the starts derived from it)."""

    __slots__ = ("ends",)

    def __init__(self, ends: list[int]) -> None:
        self.ends = ends

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, j: int) -> int:
        return self.ends[j] - 2 - j


def utf16_to_index(text: str, offset: int) -> int:
    """Code-point index of UTF-16 ``offset`` in ``text`` (clamped; see ``Utf16Map.to_index``)."""
    if not has_astral(text):
        return max(0, min(offset, len(text)))
    return Utf16Map(text).to_index(offset)


def index_to_utf16(text: str, index: int) -> int:
    """UTF-16 offset of code-point ``index`` in ``text`` (clamped to the text)."""
    if not has_astral(text):
        return max(0, min(index, len(text)))
    return Utf16Map(text).to_offset(index)
