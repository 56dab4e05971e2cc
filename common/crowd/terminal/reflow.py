"""Rows that remember how they were written, and tmux's reflow of them on a width change.

A resize is where a recorded terminal most easily stops looking like the one the user saw:
tmux 3.3a (and VS Code's xterm.js) keep the cursor where it was, rewrap long lines to the new
width and keep lines scrolled off the top in a history that a taller or wider window pulls
back into view. pyte homes the cursor (its margin reset), cuts lines at the right edge and
drops rows from the top. What tmux does, measured against tmux 3.3a (tests/terminal):

- a row continued by autowrap is marked ``wrapped``; erasing the whole row clears the mark,
  overwriting or a CR LF over it does not;
- ``used`` is how far printing reached on the row (tmux's ``cellused``): erasing to the end
  of the row does not lower it, so ``abc`` over a cleared 28-cell line still reflows as 28
  cells (an extra blank row when narrowed to 20);
- on a width change the rows of each logical line (rows joined by ``wrapped``) are joined
  and split again at the new width, a wide character never split, an empty row never
  joined; the cursor keeps its offset in its logical line, or goes to the line's end when
  it stood past ``used``;
- ICH/DCH make the whole row count as written, an erased row (EL 2, ED) is empty again,
  and moving lines (IL, DL, SU, SD, RI) unmarks the row above the moved block (and, moving
  down, its first row).
"""
from __future__ import annotations

from collections.abc import Iterable

from pyte.screens import Char, StaticDefaultDict


class Row(StaticDefaultDict):
    """One screen row: cells by column, plus how it was written (see the module doc)."""

    wrapped = False
    used = 0


def row_width(row: Row) -> int:
    """The cells of ``row`` that count when it is rewrapped: what printing reached, or the
    last cell that is not a blank on the default background (erased with a background
    colour, aligned, inserted; tmux keeps only the background of an erased cell)."""
    bg = row.default.bg
    last = max((x for x, cell in row.items() if cell.data != " " or cell.bg != bg), default=-1)
    return max(row.used, last + 1)


def wrap_position(rows: list[Row], x: int, y: int) -> tuple[int, int]:
    """(offset in its logical line or -1 for "past the end", logical line index) of (x, y)."""
    offset = 0
    line = 0
    for row in rows[:y]:
        if row.wrapped:
            offset += row_width(row)
        else:
            offset = 0
            line += 1
    if x >= row_width(rows[y]):
        return -1, line
    return offset + x, line


def unwrap_position(rows: list[Row], offset: int, line: int) -> tuple[int, int]:
    """The (x, y) of a ``wrap_position`` in rewrapped ``rows``."""
    y = 0
    seen = 0
    while y < len(rows) - 1 and seen < line:
        if not rows[y].wrapped:
            seen += 1
        y += 1
    if offset < 0:
        while rows[y].wrapped and y < len(rows) - 1:
            y += 1
        return row_width(rows[y]), y
    while rows[y].wrapped and y < len(rows) - 1:
        width = row_width(rows[y])
        if offset < width:
            break
        offset -= width
        y += 1
    return offset, y


def reflow(rows: list[Row], columns: int, default: Char) -> list[Row]:
    """Every logical line of ``rows`` rewrapped to ``columns`` cells."""
    out: list[Row] = []
    group: list[Row] = []
    for row in rows:
        if group and not row_width(row):
            out.extend(_rewrap(group, columns, default))    # tmux joins no empty row:
            group = []                                      # the one above stays wrapped
        group.append(row)
        if not row.wrapped:
            out.extend(_rewrap(group, columns, default))
            group = []
    if group:
        out.extend(_rewrap(group, columns, default))
    return out


def _rewrap(group: list[Row], columns: int, default: Char) -> Iterable[Row]:
    if len(group) == 1:
        row = group[0]
        width = row_width(row)
        if width <= columns:               # fits: the same row, cut at the new edge
            for x in [x for x in row if x >= columns]:
                del row[x]
            return [row]
    units: list[list[Char]] = []           # a character with its wide stub, if any
    for row in group:
        for x in range(row_width(row)):
            cell = row[x]
            if cell.data == "" and units:
                units[-1].append(cell)      # the right half of a wide character
            else:
                units.append([cell])
    pieces: list[Row] = []
    current: list[Char] = []
    for unit in units:
        if current and len(current) + len(unit) > columns:
            pieces.append(_row(current, default, wrapped=True))
            current = []
        current.extend(unit)
    pieces.append(_row(current, default, wrapped=group[-1].wrapped))
    return pieces


def _row(cells: list[Char], default: Char, wrapped: bool) -> Row:
    row = Row(default)
    row.update(enumerate(cells))
    row.used = len(cells)
    row.wrapped = wrapped
    return row
