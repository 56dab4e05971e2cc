"""A pyte screen that behaves like the terminals people use (xterm, tmux, VS Code's xterm.js).

pyte 0.8.2 gets several things wrong that real programs rely on, and every one of them shows
up as a garbled screen in a recording:

- no alternate screen: modes 47/1047/1049 are only remembered, so a TUI's content stays
  after it exits; here the main buffer (and, for 1049, the cursor) is saved and restored;
- DECSC/DECRC is a stack (xterm and tmux keep a single slot, restoring twice is legal);
- ``CSI S``/``CSI T`` (scroll up/down), ``CSI b`` (repeat last character, used by ncurses for
  xterm-256color), ``CSI Z`` (back tab) are not implemented;
- a resize homes the cursor, cuts rows from the top and lines at the edge; here it is done
  as tmux 3.3a does it (cursor kept, rows below the cursor dropped first, a history pulled
  back, lines rewrapped: ``crowd.terminal.reflow``);
- IL/DL, CUU/CUD, DECRC, BS and the cursor without autowrap differ from tmux in details that
  real programs hit (see the methods; each was measured against tmux);
- a zero-width character that is not a combining mark (variation selector, ZWJ) makes
  ``draw`` silently drop the rest of the text; combining marks are NFC-normalised (tmux keeps
  the code points as sent);
- a wide character at the last column is cut in half instead of wrapping;
- ``CSI n d`` in origin mode without a scroll region fails an assertion, and erasing and
  ``ESC # 8`` write cell by cell in Python (hundreds of writes per input byte).

Counts are clamped to the screen (``CSI n Z``/``S``/``T``/``b``), so no sequence costs more
than a pass over the screen whatever its count. Malformed parameters never get this far:
``tokens.csi_text`` canonicalises every CSI before it is fed.

Rendering is done here too (``text_lines``) because pyte's ``display`` calls ``wcwidth`` per
cell and treats an overwritten half of a wide character wrongly.
"""
from __future__ import annotations

import copy
from collections import defaultdict, deque
from typing import Any

import pyte
from pyte import charsets as cs
from pyte import modes as mo
from pyte.screens import Char, Margins, Savepoint
from wcwidth import wcwidth

from crowd.terminal.reflow import Row, reflow, row_width, unwrap_position, wrap_position

ALT_SCREEN_MODES = (47, 1047, 1049)
SAVE_CURSOR_MODE = 1048
HISTORY_LINES = 1000   # rows kept above the main screen for resizes (tmux keeps 2000)


class TerminalScreen(pyte.Screen):
    """pyte.Screen plus alternate screen, single-slot saved cursor and the missing CSIs."""

    def __init__(self, columns: int, lines: int) -> None:
        self.alt_screen = False
        self._main_buffer: Any = None
        self._main_cursor: Any = None
        self._main_size = (lines, columns)
        self.scroll_count = 0          # lines scrolled off the top; lets callers track rows
        # Rows scrolled off the top of the main screen, oldest first, and how many of the
        # newest a taller window pulls back (tmux's hscrolled: a clear screen zeroes it).
        self.history: deque[Row] = deque(maxlen=HISTORY_LINES)
        self.hscrolled = 0
        self._last_char: str | None = None
        self._in_draw = False
        super().__init__(columns, lines)

    # -- buffers ----------------------------------------------------------------------------
    def _new_buffer(self) -> defaultdict:
        return defaultdict(lambda: Row(self.default_char))

    def reset(self) -> None:
        super().reset()
        self.buffer = self._new_buffer()
        self.g1_charset = cs.LAT1_MAP      # G1 starts as ASCII in xterm/tmux (pyte: graphics)
        if getattr(self, "alt_screen", False):
            self.alt_screen = False
        self._main_buffer = None
        self._main_cursor = None
        self.savepoints = []

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            rest = []
            for m in modes:
                if m in ALT_SCREEN_MODES:
                    self._enter_alt(save_cursor=m == 1049)
                elif m == SAVE_CURSOR_MODE:
                    self.save_cursor()
                elif m in (3, 5):
                    continue   # DECCOLM resizes to 132 columns, DECSCNM reverses: tmux ignores both
                else:
                    rest.append(m)
            modes = tuple(rest)
        if modes:
            super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            rest = []
            for m in modes:
                if m in ALT_SCREEN_MODES:
                    self._leave_alt(restore_cursor=m == 1049)
                elif m == SAVE_CURSOR_MODE:
                    self.restore_cursor()
                elif m in (3, 5):
                    continue
                else:
                    rest.append(m)
            modes = tuple(rest)
        if modes:
            super().reset_mode(*modes, **kwargs)

    def _enter_alt(self, save_cursor: bool) -> None:
        if self.alt_screen:
            return
        # 1049 keeps its own saved cursor: DECSC inside the TUI must not change where the
        # cursor returns to when it leaves (tmux and xterm behave so). tmux keeps it after
        # leaving too: another 1049l, even outside the alternate screen, restores it again.
        if save_cursor:
            self._main_cursor = copy.copy(self.cursor)
        self._main_charsets = (self.g0_charset, self.g1_charset, self.charset)
        self._main_buffer = self.buffer
        self._main_size = (self.lines, self.columns)
        self.buffer = self._new_buffer()
        self.alt_screen = True
        self.dirty.update(range(self.lines))

    def _leave_alt(self, restore_cursor: bool) -> None:
        if restore_cursor and self._main_cursor is not None:
            self.cursor = copy.copy(self._main_cursor)
            self.g0_charset, self.g1_charset, self.charset = self._main_charsets
        if not self.alt_screen:
            self.ensure_hbounds()
            self.ensure_vbounds()
            return
        self.buffer = self._main_buffer
        self._main_buffer = None
        self.alt_screen = False
        size = (self.lines, self.columns)
        if self._main_size != size:
            # tmux resizes the main screen only now, from its old size, with this cursor.
            self.lines, self.columns = self._main_size
            self.ensure_hbounds()
            self.ensure_vbounds()
            self._resize_main(*size)     # sets lines and columns back to ``size``
        self.ensure_hbounds()
        self.ensure_vbounds()
        self.dirty.update(range(self.lines))

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """A window resize as tmux 3.3a does it (measured; see ``crowd.terminal.reflow``):
        the cursor stays where it was (no homing); a shorter screen first drops the rows
        below the cursor, then moves top rows into the history; a taller one pulls back
        rows that scrolled off; a width change rewraps the main screen and its history (the
        alternate screen is cut, as tmux cuts it). Tab stops return to every 8 columns when
        the width changes; the scroll region is reset; a saved cursor is kept (clamped when
        restored)."""
        lines = max(1, lines or self.lines)
        columns = max(1, columns or self.columns)
        if (lines, columns) == (self.lines, self.columns):
            return
        if columns != self.columns:
            self.tabstops = set(range(8, columns, 8))
        if self.alt_screen:
            self._resize_alt(lines, columns)
        else:
            self._resize_main(lines, columns)

    def _resize_alt(self, lines: int, columns: int) -> None:
        rows = [self._row_at(y) for y in range(self.lines)]
        cy = self.cursor.y
        if lines < self.lines:
            below = min(self.lines - 1 - cy, self.lines - lines)
            del rows[len(rows) - below:]
            top = len(rows) - lines          # no history here: rows go from the top
            del rows[:top]
            cy -= top
        rows.extend(Row(self.default_char) for _ in range(lines - len(rows)))
        if columns < self.columns:
            for row in rows:
                for x in [x for x in row if x >= columns]:
                    del row[x]
        self._set_rows(rows, lines, columns)
        self.cursor.y = cy

    def _resize_main(self, lines: int, columns: int) -> None:
        history = list(self.history)
        rows = history + [self._row_at(y) for y in range(self.lines)]
        hsize = len(history)
        cx, cy = self.cursor.x, hsize + self.cursor.y
        if lines < self.lines:
            needed = self.lines - lines
            below = min(self.lines - 1 - self.cursor.y, needed)
            if below > 0:
                del rows[len(rows) - below:]
            hsize += needed - below
            self.hscrolled += needed - below
        elif lines > self.lines:
            needed = lines - self.lines
            pull = min(self.hscrolled, hsize, needed)
            self.hscrolled -= pull
            hsize -= pull
            rows.extend(Row(self.default_char) for _ in range(needed - pull))
        if columns != self.columns:
            offset, line = wrap_position(rows, cx, cy)
            rows = reflow(rows, columns, self.default_char)
            cx, cy = unwrap_position(rows, offset, line)
            rows.extend(Row(self.default_char) for _ in range(lines - len(rows)))
            hsize = len(rows) - lines
        if cy >= hsize:
            self.cursor.x, self.cursor.y = cx, cy - hsize
        else:
            self.cursor.x, self.cursor.y = 0, 0
        self.history = deque(rows[:hsize], maxlen=HISTORY_LINES)
        self.hscrolled = min(self.hscrolled, len(self.history))
        self._set_rows(rows[hsize:], lines, columns)

    def _set_rows(self, rows: list[Row], lines: int, columns: int) -> None:
        buf = self._new_buffer()
        for y, row in enumerate(rows):
            if row or row.wrapped or row.used:
                buf[y] = row
        self.buffer = buf
        self.lines, self.columns = lines, columns
        self.margins = None
        self.dirty.update(range(lines))

    def _unwrap(self, *ys: int) -> None:
        """Rows that lose their autowrap mark when lines are moved next to them (tmux 3.3a,
        measured: the row above a block of moved lines and the first row moved down)."""
        for y in ys:
            row = self.buffer.get(y) if y >= 0 else None
            if row is not None:
                row.wrapped = False

    def _row_at(self, y: int) -> Row:
        """Row ``y`` of the buffer without adding it (an empty row may still be marked)."""
        row = self.buffer.get(y)
        return row if row is not None else Row(self.default_char)

    def drop_content(self) -> None:
        """Forget the screen's rows and the history: the fast path skipped the output that
        made them (the screen after the skip does not depend on them; the history does)."""
        self.buffer = self._new_buffer()
        self.history.clear()
        self.hscrolled = 0

    def set_margins(self, top: int | None = None, bottom: int | None = None) -> None:
        """DECSTBM; resetting the region homes the cursor too (pyte forgets to)."""
        if (top is None or top == 0) and bottom is None:
            self.margins = None
            self.cursor_position()
            return
        super().set_margins(top, bottom)

    # -- cursor save/restore: one slot, as in xterm and tmux -------------------------------
    def save_cursor(self) -> None:
        self.savepoints = [Savepoint(copy.copy(self.cursor), self.g0_charset, self.g1_charset,
                                     self.charset, mo.DECOM in self.mode, mo.DECAWM in self.mode)]

    def restore_cursor(self) -> None:
        if not self.savepoints:
            super().restore_cursor()
            return
        sp = self.savepoints[0]
        self.g0_charset, self.g1_charset, self.charset = sp.g0_charset, sp.g1_charset, sp.charset
        if sp.origin:
            self.mode.add(mo.DECOM)
        else:
            self.mode.discard(mo.DECOM)
        # tmux restores origin mode but not autowrap (xterm would; tmux is the reference)
        self.cursor = copy.copy(sp.cursor)
        self.ensure_hbounds()
        self.ensure_vbounds()           # where it was, even outside the scroll region (tmux)

    # -- scrolling ---------------------------------------------------------------------------
    def index(self) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        if self.cursor.y == bottom:
            buf = self.buffer
            if top == 0 and not self.alt_screen:     # tmux keeps it, whatever the bottom
                self.history.append(self._row_at(0))
                self.hscrolled += 1
            for y in range(top, bottom):
                buf[y] = buf[y + 1]
            buf.pop(bottom, None)
            self.dirty.update(range(top, bottom + 1))
            if top == 0:
                self.scroll_count += 1
        else:
            self.cursor_down()

    def scroll_up(self, count: int | None = None) -> None:
        """SU (CSI n S): scroll the region up without moving the cursor (one pass over the
        region whatever the count: a count beyond it clears the region)."""
        top, bottom = self.margins or Margins(0, self.lines - 1)
        n = min(count or 1, bottom - top + 1)
        buf = self.buffer
        self._unwrap(top - 1)
        if top == 0 and not self.alt_screen:
            self.history.extend(self._row_at(y) for y in range(n))
            self.hscrolled += n
        for y in range(top, bottom + 1):
            if y + n <= bottom and y + n in buf:
                buf[y] = buf[y + n]
            else:
                buf.pop(y, None)
        self.dirty.update(range(top, bottom + 1))

    def scroll_down(self, count: int | None = None, *args: Any) -> None:
        """SD (CSI n T): scroll the region down without moving the cursor."""
        top, bottom = self.margins or Margins(0, self.lines - 1)
        n = min(count or 1, bottom - top + 1)
        buf = self.buffer
        self._unwrap(top - 1, top)
        for y in range(bottom, top - 1, -1):
            if y - n >= top and y - n in buf:
                buf[y] = buf[y - n]
            else:
                buf.pop(y, None)
        self.dirty.update(range(top, bottom + 1))

    def _line_range(self) -> int:
        """The last row IL/DL move: the bottom margin, or with the cursor outside the scroll
        region the last row of the screen (tmux 3.3a; pyte and xterm do nothing there)."""
        top, bottom = self.margins or Margins(0, self.lines - 1)
        return bottom if top <= self.cursor.y <= bottom else self.lines - 1

    def delete_lines(self, count: int | None = None) -> None:
        """DL (CSI n M). pyte leaves a row in place when the row that should move up into it
        was never written (a sparse buffer after an erase): every row from the cursor to the
        bottom margin is replaced or emptied here. The cursor stays in its column (tmux)."""
        bottom = self._line_range()
        n = count or 1
        buf = self.buffer
        self._unwrap(self.cursor.y - 1)
        for y in range(self.cursor.y, bottom + 1):
            if y + n <= bottom and y + n in buf:
                buf[y] = buf[y + n]
            else:
                buf.pop(y, None)
        self.dirty.update(range(self.cursor.y, self.lines))

    def insert_lines(self, count: int | None = None) -> None:
        """IL (CSI n L); the cursor stays in its column, as in tmux (pyte returns it)."""
        bottom = self._line_range()
        n = count or 1
        buf = self.buffer
        self._unwrap(self.cursor.y - 1, self.cursor.y)
        for y in range(bottom, self.cursor.y - 1, -1):
            if y - n >= self.cursor.y and y - n in buf:
                buf[y] = buf[y - n]
            else:
                buf.pop(y, None)
        self.dirty.update(range(self.cursor.y, self.lines))

    def insert_characters(self, count: int | None = None) -> None:
        """ICH; tmux then counts the whole row as written (it rewraps at full width)."""
        super().insert_characters(count)
        self.buffer[self.cursor.y].used = self.columns

    def delete_characters(self, count: int | None = None) -> None:
        """DCH; tmux then counts the whole row as written (it rewraps at full width)."""
        super().delete_characters(count)
        self.buffer[self.cursor.y].used = self.columns

    def reverse_index(self) -> None:
        top = self.margins.top if self.margins else 0
        if self.cursor.y == top:
            self._unwrap(top - 1, top)
        super().reverse_index()

    def cursor_back(self, count: int | None = None) -> None:
        """CUB (and BS): from a pending wrap (the cursor past the last column) it counts from
        there, as tmux does (pyte first steps back onto the last column)."""
        self.cursor.x = max(0, self.cursor.x - (count or 1))

    def cursor_up(self, count: int | None = None) -> None:
        """CUU: stops at the top margin only from inside the region (tmux, xterm)."""
        top = self.margins.top if self.margins else 0
        floor = top if self.cursor.y >= top else 0
        self.cursor.y = max(floor, self.cursor.y - (count or 1))
        self.cursor.x = min(self.cursor.x, self.columns - 1)   # no pending wrap after it

    def cursor_down(self, count: int | None = None) -> None:
        """CUD: stops at the bottom margin only from inside the region (tmux, xterm)."""
        bottom = self.margins.bottom if self.margins else self.lines - 1
        ceiling = bottom if self.cursor.y <= bottom else self.lines - 1
        self.cursor.y = min(ceiling, self.cursor.y + (count or 1))
        self.cursor.x = min(self.cursor.x, self.columns - 1)

    def tab_back(self, count: int | None = None) -> None:
        """CBT (CSI n Z); more tabs than columns all end at column 0."""
        stops = sorted(s for s in self.tabstops if s < min(self.cursor.x, self.columns))
        n = min(count or 1, self.columns)
        self.cursor.x = stops[-n] if n <= len(stops) else 0

    def tab_forward(self, count: int | None = None) -> None:
        """CHT (CSI n I): tmux 3.3a ignores it (measured), so does this screen."""

    def repeat_char(self, count: int | None = None) -> None:
        """REP (CSI n b), as tmux 3.3a does it (measured): repeat the printable ASCII character
        printed right before (any control, escape sequence or non-ASCII character in between
        leaves nothing to repeat), at most to the end of the line (xterm would wrap; the clamp
        also keeps a huge count from costing the whole screen per sequence)."""
        last = self._last_char
        n = min(count or 1, self.columns - self.cursor.x)
        if n > 0 and last is not None:
            self.draw(last * n)
        self._last_char = None         # a second REP repeats nothing (tmux 3.3a, measured)

    def forget_last_char(self) -> None:
        """Something other than a printed character came: REP has nothing to repeat."""
        self._last_char = None

    # C0 controls end a run of printed characters too (tmux forgets the last one).
    def carriage_return(self) -> None:
        self._last_char = None
        if self._in_draw and self.cursor.x >= self.columns:   # pyte's autowrap
            row = self.buffer[self.cursor.y]
            row.wrapped = True
            row.used = max(row.used, self.columns)
        super().carriage_return()

    def linefeed(self) -> None:
        self._last_char = None
        super().linefeed()

    def backspace(self) -> None:
        """BS; at column 0 under a row that autowrapped it goes back to that row's last
        column (tmux 3.3a, measured: shells erase across a wrapped command line so)."""
        self._last_char = None
        cur = self.cursor
        if cur.x == 0:
            if cur.y > 0 and self._row_at(cur.y - 1).wrapped:
                cur.y -= 1
                cur.x = self.columns - 1
            return
        cur.x = min(cur.x, self.columns) - 1

    def tab(self) -> None:
        self._last_char = None
        super().tab()

    def bell(self, *args: Any) -> None:
        self._last_char = None

    def shift_in(self) -> None:
        self._last_char = None
        super().shift_in()

    def shift_out(self) -> None:
        self._last_char = None
        super().shift_out()

    def cursor_to_line(self, line: int | None = None) -> None:
        """VPA (CSI n d); in origin mode without a scroll region the region is the whole
        screen (pyte asserts there is one)."""
        if self.margins is None and mo.DECOM in self.mode:
            self.cursor.y = (line or 1) - 1
            self.ensure_vbounds()
            return
        super().cursor_to_line(line)

    # -- erasing: whole rows at C speed ----------------------------------------------------
    # pyte erases and aligns cell by cell in Python; a stream of ``CSI 2 J`` or ``ESC # 8``
    # then costs hundreds of cell writes per input byte (minutes per MB). Same cells here,
    # written with dict operations; an unknown mode does nothing instead of raising.
    def erase_in_line(self, how: int = 0, private: bool = False) -> None:
        x = self.cursor.x
        if how == 2 or (how == 0 and x == 0) or (how == 1 and x >= self.columns - 1):
            row = self.buffer[self.cursor.y]   # the whole row: tmux empties it
            row.wrapped = False
            row.used = 0
        if how == 0:
            cells = range(x, self.columns)
        elif how == 1:
            cells = range(min(x, self.columns - 1) + 1)
        elif how == 2:
            cells = range(self.columns)
        else:
            return
        self.dirty.add(self.cursor.y)
        self.buffer[self.cursor.y].update(dict.fromkeys(cells, self.cursor.attrs))

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        """ED. As in tmux 3.3a (measured): ``CSI 3 J`` clears only the history; ``CSI 2 J``
        on the main screen moves its rows into the history first (a wider window may show
        them again) but no taller window pulls them back."""
        buf = self.buffer
        if how == 0:
            rows = range(self.cursor.y + 1, self.lines)
        elif how == 1:
            rows = range(self.cursor.y)
        elif how == 2:
            rows = range(self.lines)
            if not self.alt_screen:
                last = max((y for y, row in buf.items() if y < self.lines and row_width(row)),
                           default=-1)
                self.history.extend(self._row_at(y) for y in range(last + 1))
                self.hscrolled = 0
                for y in range(last + 1):
                    buf[y] = Row(self.default_char)
        elif how == 3:
            self.history.clear()
            self.hscrolled = 0
            return
        else:
            return
        self.dirty.update(rows)
        attrs = self.cursor.attrs
        for y in rows:
            line = buf.get(y)
            if line is None:
                continue
            if attrs == line.default:
                del buf[y]           # reads the same: every cell is the row's default
            else:
                line.update(dict.fromkeys(line, attrs))
                line.used = 0        # tmux empties the row (its background aside)
                line.wrapped = False
        if how in (0, 1):
            self.erase_in_line(how)

    def alignment_display(self) -> None:
        """DECALN (ESC # 8): the screen full of E's, as tmux fills it (default rendition)."""
        self.dirty.update(range(self.lines))
        row = dict.fromkeys(range(self.columns), self.default_char._replace(data="E"))
        for y in range(self.lines):
            self.buffer[y].update(row)

    # -- drawing -----------------------------------------------------------------------------
    def draw(self, data: str) -> None:
        if not data:
            return
        if self.cursor.x >= self.columns and mo.DECAWM not in self.mode:
            # Past the last column (a wrap was pending, or an alternate screen got narrower)
            # and no autowrap: tmux 3.3a drops what is printed (measured).
            self._last_char = data[-1] if data[-1].isascii() else None
            return
        if data.isascii():
            if (mo.DECAWM in self.mode and mo.IRM not in self.mode
                    and (self.g1_charset if self.charset else self.g0_charset) is cs.LAT1_MAP):
                self._draw_ascii(data)
            else:
                self._pyte_draw(data)
            self._last_char = data[-1]
            return
        run: list[str] = []
        for ch in data:
            w = wcwidth(ch)
            if w == 1:
                run.append(ch)
                continue
            if run:
                self._pyte_draw("".join(run))
                run.clear()
            if w == 2:
                if self.cursor.x >= self.columns - 1 and mo.DECAWM not in self.mode:
                    self._last_char = None
                    continue                       # does not fit, no wrap: tmux drops it
                if self.cursor.x == self.columns - 1 and mo.DECAWM in self.mode:
                    row = self.buffer[self.cursor.y]
                    row.used = max(row.used, self.columns - 1)
                    row.wrapped = True
                    self.cursor.x = self.columns   # does not fit: wrap first, as xterm/tmux do
                self._pyte_draw(ch)
            elif w == 0:
                self._attach_zero_width(ch)
            self._last_char = None     # tmux repeats only ASCII
        if run:
            self._pyte_draw("".join(run))
            self._last_char = run[-1] if run[-1].isascii() else None

    def _pyte_draw(self, data: str) -> None:
        """pyte's draw, noting autowraps (``carriage_return``) and how far the row got."""
        if self.cursor.x > self.columns:
            self.cursor.x = self.columns         # past the edge (narrower alternate screen)
        self._in_draw = True
        try:
            super().draw(data)
        finally:
            self._in_draw = False
        row = self.buffer[self.cursor.y]
        row.used = max(row.used, min(self.cursor.x, self.columns))
        if self.cursor.x >= self.columns and mo.DECAWM not in self.mode:
            self.cursor.x = self.columns - 1   # no autowrap: it stays on the last cell (tmux)

    def _draw_ascii(self, data: str) -> None:
        """pyte's draw for printable ASCII with autowrap, without per-character overhead.

        Same cells, same wrapping (deferred: the cursor may sit at ``columns``) and same
        dirty rows as ``pyte.Screen.draw``; one tuple allocation per cell instead of a
        ``wcwidth`` call and a namedtuple ``_replace``.
        """
        cols = self.columns
        cur = self.cursor
        rest = tuple(cur.attrs)[1:]
        new = tuple.__new__
        char = Char
        i, n = 0, len(data)
        while i < n:
            if cur.x >= cols:
                self.dirty.add(cur.y)
                self.buffer[cur.y].wrapped = True
                self.carriage_return()
                self.linefeed()
            x = cur.x
            seg = data[i:i + cols - x]
            line = self.buffer[cur.y]
            for ch in seg:
                line[x] = new(char, (ch, *rest))
                x += 1
            cur.x = x
            if x > line.used:
                line.used = x
            i += len(seg)
        self.dirty.add(cur.y)

    def _attach_zero_width(self, ch: str) -> None:
        x, y = self.cursor.x, self.cursor.y
        if x == 0:
            if y == 0:
                return
            y, x = y - 1, self.columns
        row = self.buffer[y]
        x -= 1
        if x > 0 and row[x].data == "":
            x -= 1          # the stub of a wide character: attach to the character itself
        cell = row[x]
        row[x] = cell._replace(data=cell.data + ch)
        self.dirty.add(y)

    # -- rendering ---------------------------------------------------------------------------
    def text_lines(self) -> list[str]:
        """The visible text, one string per row, wide characters once, like tmux capture-pane."""
        cols = self.columns
        blank = " " * cols
        out = []
        buffer = self.buffer
        for y in range(self.lines):
            row = buffer.get(y)
            if not row:
                out.append(blank)
                continue
            cells = [row[x].data for x in range(cols)]
            text = "".join(cells)
            if not text.isascii():
                text = _fix_wide(cells)
            out.append(text)
        return out

    def cursor_pos(self) -> tuple[int, int]:
        """(row, col); col == columns means a wrap is pending (tmux reports it the same way)."""
        return self.cursor.y, self.cursor.x


def _fix_wide(cells: list[str]) -> str:
    """Join cells: a stub after a wide char vanishes; an orphaned half becomes a space."""
    out = []
    n = len(cells)
    x = 0
    while x < n:
        c = cells[x]
        if c == "":
            out.append(" ")      # stub whose wide character was overwritten
            x += 1
            continue
        if wcwidth(c[0]) == 2:
            if x + 1 < n and cells[x + 1] == "":
                out.append(c)
                x += 2
                continue
            if x + 1 >= n:
                out.append(c)
                x += 1
                continue
            out.append(" ")      # its second half was overwritten
            x += 1
            continue
        out.append(c)
        x += 1
    return "".join(out)


class TerminalStream(pyte.Stream):
    """pyte.Stream wired to the extra CSIs; charsets honoured (UTF-8 is decoded before)."""

    csi = dict(pyte.Stream.csi, S="scroll_up", T="scroll_down", Z="tab_back", I="tab_forward",
               b="repeat_char")
    events = pyte.Stream.events | {"scroll_up", "scroll_down", "tab_back", "tab_forward",
                                   "repeat_char"}

    def __init__(self, screen: TerminalScreen) -> None:
        super().__init__(screen)
        # Input is already decoded text; turning this off makes pyte honour ESC ( 0 line
        # drawing and SI/SO, which ncurses uses for boxes and tmux renders.
        self.use_utf8 = False
