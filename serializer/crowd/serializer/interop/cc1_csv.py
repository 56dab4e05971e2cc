"""Read the rows of a crowd-code 1.0 ``source.csv`` as the extension really wrote them.

The 1.0 extension does not use a CSV library: it appends hand-built lines
``seq,time,"file",offset,length,"text",language,type\\n`` (quotes doubled inside ``text``;
CR/LF/tab escaped as literal ``\\r``/``\\n``/``\\t``; backslashes *not* escaped). Real files
therefore hold things a plain ``csv.DictReader`` either crashes on or silently mis-reads:

- fields far over Python's default 128 KiB field limit (a ``tab`` row carries the whole
  file's text);
- two rows glued together when the newline between them was lost, so the first row's
  ``Type`` runs into the next row's ``Sequence`` (``content13``) and the record has 15 fields;
- rows cut short (a killed writer, a truncated upload) whose open quote swallows the
  following lines;
- a ``Time`` column that is not a number (the anchors' readers ignore ``Time``).

This module turns such a file into rows plus a list of problems that say exactly what was
repaired and what was dropped, so the importer (``cc1_import``) never guesses silently.
"""
from __future__ import annotations

import csv
import math
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

COLUMNS = ["Sequence", "Time", "File", "RangeOffset", "RangeLength", "Text", "Language", "Type"]
TYPES = ("tab", "content", "selection_command", "selection_mouse", "selection_keyboard",
         "terminal_command", "terminal_output", "terminal_focus", "git_branch_checkout")

# VS Code does not hand documents over 50 MB to extensions, so no honest 1.0 field is larger
# than this; a bigger one is damage, and reading it would only exhaust memory.
FIELD_LIMIT = 64 * 1024 * 1024

_ESCAPE = re.compile(r"\\([nrt])")
_UNESCAPED = {"n": "\n", "r": "\r", "t": "\t"}
# a row's Type glued to the next row's Sequence (longest names first: selection_* before ...)
_MERGED = re.compile("(" + "|".join(sorted(TYPES, key=len, reverse=True)) + r")(\d+)")
_MERGED_HEADER = re.compile(r"(Type)(\d+)")
_PREVIEW = 60


class Cc1ImportError(ValueError):
    """The file is not a crowd-code 1.0 CSV, or nothing in it can be used."""


def escape(text: str) -> str:
    """``text`` as 1.0 writes it into the Text field (before CSV quoting)."""
    return text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")


def unescape(text: str) -> str:
    """The inverse of :func:`escape`, as the anchors' readers do it (``\\t`` included).

    1.0 does not escape backslashes, so source text holding a literal backslash followed by
    ``n``/``r``/``t`` comes back as a control character: a limit of the format.
    """
    return _ESCAPE.sub(lambda m: _UNESCAPED[m.group(1)], text)


@dataclass(frozen=True)
class RawRow:
    """One data row: the 8 fields as text (``Text`` still escaped) and where it came from."""

    line: int
    fields: tuple[str, ...]
    repaired: bool = False

    def get(self, column: str) -> str:
        return self.fields[COLUMNS.index(column)]


def preview(text: str) -> str:
    text = text.rstrip("\r\n")
    return repr(text if len(text) <= _PREVIEW else text[:_PREVIEW] + "...")


class _Lines:
    """The file's lines (split on ``\\n`` only: 1.0 never writes another line break raw)
    with push-back, so lines swallowed by a broken row can be read again. An iterator
    object, not a generator: it keeps answering after it once ran dry."""

    def __init__(self, text: str) -> None:
        parts = text.split("\n")
        numbered = [(i, p + "\n") for i, p in enumerate(parts[:-1], start=1)]
        if parts[-1]:
            numbered.append((len(parts), parts[-1]))
        self.queue: deque[tuple[int, str]] = deque(numbered)
        self.taken: list[tuple[int, str]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if not self.queue:
            raise StopIteration
        item = self.queue.popleft()
        self.taken.append(item)
        return item[1]

    def give_back(self, items: list[tuple[int, str]]) -> None:
        self.queue.extendleft(reversed(items))


def _ensure_field_limit() -> None:
    """Raise (never lower) the process-wide csv field limit to FIELD_LIMIT. Lowering it back
    afterwards would race with another thread's reader; raising it harms nobody."""
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)


def _too_large(name: str, line: int) -> str:
    return (f"{name}: line {line}: a field is larger than {FIELD_LIMIT:,} characters, more than "
            "VS Code hands to an extension; the file is damaged, nothing imported")


def _records(text: str, name: str, problems: list[str]) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) of every CSV record; broken quoting is cut out."""
    _ensure_field_limit()
    lines = _Lines(text)
    reader = csv.reader(lines)
    while True:
        lines.taken.clear()
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            first = lines.taken[0][0] if lines.taken else 0
            if "field larger than field limit" in str(exc):
                raise Cc1ImportError(_too_large(name, first)) from exc
            problems.append(f"line {first}: unreadable ({exc}); dropped: {preview(lines.taken[0][1])}")
            lines.give_back(lines.taken[1:])
            continue
        if not lines.taken:
            return
        first, last = lines.taken[0][0], lines.taken[-1][0]
        if any(len(f) > FIELD_LIMIT for f in fields):  # the global limit may be higher than ours
            raise Cc1ImportError(_too_large(name, first))
        if last > first and any("\n" in f for f in fields):
            # 1.0 never writes a raw newline inside a field: an open quote swallowed lines
            problems.append(f"line {first}: a quoted field is never closed (row cut short); "
                            f"dropped: {preview(lines.taken[0][1])}")
            lines.give_back(lines.taken[1:])
            continue
        if fields:
            yield first, fields


def _split(fields: list[str]) -> tuple[list[list[str]], list[str]]:
    """Rows glued by a lost newline, split apart; and what is left that is no row."""
    rows: list[list[str]] = []
    while len(fields) > len(COLUMNS):
        m = _MERGED.fullmatch(fields[7].strip())
        if not m:
            break
        rows.append(fields[:7] + [m.group(1)])
        fields = [m.group(2)] + fields[8:]
    if len(fields) == len(COLUMNS):
        return rows + [fields], []
    return rows, fields


def read_rows(text: str, name: str) -> tuple[list[RawRow], list[str]]:
    """Data rows of a 1.0 CSV (``text`` already decoded) and the problems met reading them.

    Raises Cc1ImportError when the header is not 1.0's or a field exceeds FIELD_LIMIT.
    """
    problems: list[str] = []
    records = _records(text, name, problems)
    first = next(records, None)
    if first is None:
        raise Cc1ImportError(f"{name}: empty file, expected the header {','.join(COLUMNS)}")
    line, header = first
    pending: list[tuple[int, list[str]]] = []
    header = [h.strip().lstrip("\ufeff") for h in header]
    if len(header) > len(COLUMNS) and (m := _MERGED_HEADER.fullmatch(header[7])):
        problems.append(f"line {line}: the header is glued to the first row (a lost newline); split apart")
        pending.append((line, [m.group(2)] + header[8:]))
        header = header[:7] + ["Type"]
    if header[:len(COLUMNS)] != COLUMNS:
        raise Cc1ImportError(f"{name}: header is {header!r}, expected {','.join(COLUMNS)}")
    rows: list[RawRow] = []

    def take(lineno: int, fields: list[str], repaired: bool) -> None:
        parts, rest = _split(fields)
        glued = repaired or len(parts) > 1
        if glued and len(parts) > 1:
            problems.append(f"line {lineno}: {len(parts)} rows glued together (a lost newline); split apart")
        for p in parts:
            rows.append(RawRow(lineno, tuple(p), glued))
        if rest:
            what = "the rest of the line" if parts else "row"
            kind = "too few" if len(rest) < len(COLUMNS) else "too many"
            problems.append(f"line {lineno}: {what} has {len(rest)} fields ({kind}, expected "
                            f"{len(COLUMNS)}); dropped: {preview(','.join(rest))}")

    for lineno, fields in pending:
        take(lineno, fields, True)
    for lineno, fields in records:
        take(lineno, fields, False)
    return rows, problems


def parse_time(value: str) -> int | None:
    """Milliseconds since the recording started, or None when ``value`` is no number."""
    try:
        ms = float(value)
    except (TypeError, ValueError):
        return None
    return int(ms) if math.isfinite(ms) and ms >= 0 else None
