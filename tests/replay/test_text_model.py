"""The one text model (crowd.text) against Python's own UTF-16 codec, property-based.

The sidecar records edits with it and the replayer applies them with it, so every conversion
is checked against an oracle that knows nothing of our code: ``str.encode("utf-16-le")``
for units and offsets, and a plain split for VS Code's line breaks.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.text.document import Document, EditError, OpenDocument
from crowd.text.lines import index_position, line_starts, split_lines
from crowd.text.utf16 import OffsetError, Utf16Map, clean_text, index_to_utf16, utf16_len, utf16_to_index

# BMP, astral, combining and zero-width joiners, and every separator str.splitlines knows
# but VS Code does not break at.
PIECES = ["a", "b", " ", "é", "漢", "😀", "🎉", "👩\u200d💻", "\n", "\r", "\r\n", "\x0c", "\u2028", "\x85", "\t"]
texts = st.lists(st.sampled_from(PIECES), max_size=25).map("".join)
SETTINGS = settings(max_examples=300, deadline=None)


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def boundaries(text: str) -> list[int]:
    """UTF-16 offset of every code-point index 0..len(text) (the oracle's offset table)."""
    return [units(text[:i]) for i in range(len(text) + 1)]


def oracle_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


@SETTINGS
@given(texts)
def test_length_and_conversions_match_the_codec(text):
    table = boundaries(text)
    assert utf16_len(text) == units(text) == Utf16Map(text).length
    span = Utf16Map(text)
    for index, offset in enumerate(table):
        assert span.to_offset(index) == index_to_utf16(text, index) == offset
        assert span.to_index(offset) == utf16_to_index(text, offset) == index
        assert span.exact_index(offset) == index
    for offset in range(-2, units(text) + 3):
        expected = max([i for i, o in enumerate(table) if o <= offset], default=0)
        assert span.to_index(offset) == expected           # clamped; inside a pair: its start
        if offset in table:
            continue
        with pytest.raises(OffsetError):
            span.exact_index(offset)


@SETTINGS
@given(texts)
def test_lines_break_where_vs_code_breaks(text):
    assert split_lines(text) == oracle_lines(text)
    starts = line_starts(text)
    assert len(starts) == len(oracle_lines(text))
    doc = Document(text)
    for line, body in enumerate(oracle_lines(text)):
        assert doc.lines_text(line, line) == body
        start = starts[line]
        assert text[start:start + len(body)] == body
        # every character of the line, in UTF-16 units, round-trips through position()
        offset = units(text[:start])
        for char in range(units(body) + 1):
            if units(text[:start]) + char not in boundaries(text):
                continue
            assert doc.offset_at(line, char) == offset + char
            assert doc.position(offset + char) == (line, char)
            assert index_position(text, doc.to_index(offset + char)) == (line, char)
        # past the line's end clamps to it, past the last line to the document's end
        assert doc.offset_at(line, units(body) + 5) == offset + units(body)
    assert doc.offset_at(len(starts) + 1, 0) == units(text)
    assert doc.lines_text(0, len(starts)) == text             # the last line has no break


@st.composite
def edits(draw):
    """A text and separate changes (replacements or inserts) at offsets an editor could send,
    in any order, as multi-cursor edits arrive."""
    text = draw(texts)
    cuts = sorted(draw(st.sets(st.sampled_from(boundaries(text)), max_size=6)))
    pairs = [(a, a if draw(st.booleans()) else b) for a, b in zip(cuts[::2], cuts[1::2])]
    changes = [{"offset": a, "length": b - a, "text": draw(texts)} for a, b in pairs]
    return text, draw(st.permutations(changes))


def oracle_apply(text: str, changes: list[dict]) -> str:
    data = text.encode("utf-16-le")
    for ch in sorted(changes, key=lambda c: c["offset"], reverse=True):
        start, end = 2 * ch["offset"], 2 * (ch["offset"] + ch["length"])
        data = data[:start] + ch["text"].encode("utf-16-le") + data[end:]
    return data.decode("utf-16-le")


def oracle_removed(text: str, change: dict) -> str:
    data = text.encode("utf-16-le")
    return data[2 * change["offset"]:2 * (change["offset"] + change["length"])].decode("utf-16-le")


@SETTINGS
@given(edits())
def test_sidecar_and_replayer_apply_the_same_edit_alike(case):
    text, changes = case
    expected = oracle_apply(text, changes)
    replayed, sidecar = Document(text), OpenDocument("file:///f", "f", text, 1)
    done = replayed.apply(changes)
    sidecar.apply_checked(changes, 2)
    assert replayed.text == sidecar.text == expected
    assert replayed.length16() == sidecar.length16() == units(expected)
    assert replayed.astral == sidecar.astral == (units(expected) != len(expected))
    in_order = sorted(changes, key=lambda c: c["offset"], reverse=True)
    assert [removed for _, removed, _ in done] == [oracle_removed(text, c) for c in in_order]
    assert sidecar.version == 2 and replayed.version == 1


@SETTINGS
@given(texts, st.integers(-3, 60), st.integers(-3, 10))
def test_refused_edits_leave_the_sidecar_copy_unchanged(text, offset, length):
    doc = OpenDocument("file:///f", "f", text, 1)
    table = boundaries(text)
    change = {"offset": offset, "length": length, "text": "x"}
    valid = offset >= 0 and length >= 0 and offset in table and offset + length in table
    if valid:
        doc.apply_checked([change], 2)
        assert doc.text == oracle_apply(text, [change])
        return
    with pytest.raises(EditError):
        doc.apply_checked([change], 2)
    assert doc.text == text and doc.version == 1
    clamped = Document(text)
    clamped.apply([change])                      # the replayer goes on, clamped
    assert units(clamped.text) <= units(text) + 1


@SETTINGS
@given(st.lists(st.sampled_from(["a", "é", "😀", "\ud800", "\udfff", "\n"]), max_size=20).map("".join))
def test_lone_surrogates_become_one_unit_replacements(text):
    cleaned, changed = clean_text(text)
    cleaned.encode("utf-8")                          # writable
    assert changed == (cleaned != text)
    assert units(cleaned) == len(text.encode("utf-16-le", "surrogatepass")) // 2
