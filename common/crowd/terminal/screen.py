"""A pyte screen that behaves like the terminals people use (xterm, tmux, VS Code's xterm.js).

pyte 0.8.2 gets several things wrong that real programs rely on, and every one of them shows
up as a garbled screen in a recording:

- no alternate screen: modes 47/1047/1049 are only remembered, so a TUI's content stays
  after it exits; here the main buffer (and, for 1049, the cursor) is saved and restored;
- DECSC/DECRC is a stack (xterm and tmux keep a single slot, restoring twice is legal);
- ``CSI S``/``CSI T`` (scroll up/down), ``CSI b`` (repeat last character, used by ncurses for
  xterm-256color), ``CSI Z``/``CSI I`` (back/forward tab) are not implemented;
- a zero-width character that is not a combining mark (variation selector, ZWJ) makes
  ``draw`` silently drop the rest of the text; combining marks are NFC-normalised (tmux keeps
  the code points as sent);
- a wide character at the last column is cut in half instead of wrapping;
- ``CSI n d`` in origin mode without a scroll region fails an assertion, and erasing and
  ``ESC # 8`` write cell by cell in Python (hundreds of writes per input byte).

Counts are clamped to the screen (``CSI n I``/``Z``/``S``/``T``/``b``), so no sequence costs more
than a pass over the screen whatever its count. Malformed parameters never get this far:
``tokens.csi_text`` canonicalises every CSI before it is fed.

Rendering is done here too (``text_lines``) because pyte's ``display`` calls ``wcwidth`` per
cell and treats an overwritten half of a wide character wrongly.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any

import pyte
from pyte import charsets as cs
from pyte import modes as mo
from pyte.screens import Char, Margins, Savepoint, StaticDefaultDict
from wcwidth import wcwidth

ALT_SCREEN_MODES = (47, 1047, 1049)
SAVE_CURSOR_MODE = 1048


class TerminalScreen(pyte.Screen):
    """pyte.Screen plus alternate screen, single-slot saved cursor and the missing CSIs."""

    def __init__(self, columns: int, lines: int) -> None:
        self.alt_screen = False
        self._main_buffer: Any = None
        self._main_cursor: Any = None
        self.scroll_count = 0          # lines scrolled off the top; lets callers track rows
        self._last_char = " "
        super().__init__(columns, lines)

    # -- buffers ----------------------------------------------------------------------------
    def _new_buffer(self) -> defaultdict:
        return defaultdict(lambda: StaticDefaultDict(self.default_char))

    def reset(self) -> None:
        super().reset()
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
        # cursor returns to when it leaves (tmux and xterm behave so).
        self._main_cursor = copy.copy(self.cursor) if save_cursor else None
        self._main_charsets = (self.g0_charset, self.g1_charset, self.charset)
        self._main_buffer = self.buffer
        self.buffer = self._new_buffer()
        self.alt_screen = True
        self.dirty.update(range(self.lines))

    def _leave_alt(self, restore_cursor: bool) -> None:
        if not self.alt_screen:
            return
        self.buffer = self._main_buffer
        self._main_buffer = None
        self.alt_screen = False
        if restore_cursor and self._main_cursor is not None:
            self.cursor = copy.copy(self._main_cursor)
            self.g0_charset, self.g1_charset, self.charset = self._main_charsets
        self._main_cursor = None
        self.ensure_hbounds()
        self.ensure_vbounds()
        self.dirty.update(range(self.lines))

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        lines = lines or self.lines
        columns = columns or self.columns
        if self.alt_screen and self._main_buffer is not None:
            main = self._main_buffer
            if lines < self.lines:     # drop from the top, like pyte does for the live buffer
                shift = self.lines - lines
                shifted = self._new_buffer()
                for y, row in main.items():
                    if y >= shift:
                        shifted[y - shift] = row
                main = shifted
            if columns < self.columns:
                for row in main.values():
                    for x in range(columns, self.columns):
                        row.pop(x, None)
            self._main_buffer = main
        super().resize(lines, columns)
        self.ensure_hbounds()
        self.ensure_vbounds()

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
        if sp.wrap:
            self.mode.add(mo.DECAWM)
        else:
            self.mode.discard(mo.DECAWM)
        self.cursor = copy.copy(sp.cursor)
        self.ensure_hbounds()
        self.ensure_vbounds(use_margins=True)

    # -- scrolling ---------------------------------------------------------------------------
    def index(self) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        if self.cursor.y == bottom:
            buf = self.buffer
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
        for y in range(bottom, top - 1, -1):
            if y - n >= top and y - n in buf:
                buf[y] = buf[y - n]
            else:
                buf.pop(y, None)
        self.dirty.update(range(top, bottom + 1))

    def tab_back(self, count: int | None = None) -> None:
        """CBT (CSI n Z); more tabs than columns all end at column 0."""
        stops = sorted(s for s in self.tabstops if s < min(self.cursor.x, self.columns))
        n = min(count or 1, self.columns)
        self.cursor.x = stops[-n] if n <= len(stops) else 0

    def tab_forward(self, count: int | None = None) -> None:
        """CHT (CSI n I); more tabs than columns all end at the last column."""
        for _ in range(min(count or 1, self.columns)):
            x = self.cursor.x
            self.tab()
            if self.cursor.x == x:
                break

    def repeat_char(self, count: int | None = None) -> None:
        """REP (CSI n b): repeat the last printed graphic character, at most to the end of
        the line, as tmux does (xterm would wrap; tmux is the reference here, and the clamp
        keeps a huge count from costing the whole screen per sequence)."""
        n = min(count or 1, self.columns - self.cursor.x)
        if n > 0:
            self.draw(self._last_char * n)

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
        if how == 0:
            rows = range(self.cursor.y + 1, self.lines)
        elif how == 1:
            rows = range(self.cursor.y)
        elif how in (2, 3):
            rows = range(self.lines)
        else:
            return
        self.dirty.update(rows)
        attrs = self.cursor.attrs
        buf = self.buffer
        for y in rows:
            line = buf.get(y)
            if line is None:
                continue
            if attrs == line.default:
                del buf[y]           # reads the same: every cell is the row's default
            else:
                line.update(dict.fromkeys(line, attrs))
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
        if data.isascii():
            if (mo.DECAWM in self.mode and mo.IRM not in self.mode
                    and (self.g1_charset if self.charset else self.g0_charset) is cs.LAT1_MAP):
                self._draw_ascii(data)
            else:
                super().draw(data)
            self._last_char = data[-1]
            return
        run: list[str] = []
        for ch in data:
            w = wcwidth(ch)
            if w == 1:
                run.append(ch)
                continue
            if run:
                super().draw("".join(run))
                run.clear()
            if w == 2:
                if self.cursor.x == self.columns - 1 and mo.DECAWM in self.mode:
                    self.cursor.x = self.columns   # does not fit: wrap first, as xterm/tmux do
                super().draw(ch)
            elif w == 0:
                self._attach_zero_width(ch)
                continue
            else:
                continue   # unprintable
            self._last_char = ch
        if run:
            super().draw("".join(run))
            self._last_char = run[-1]

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
                self.carriage_return()
                self.linefeed()
            x = cur.x
            seg = data[i:i + cols - x]
            line = self.buffer[cur.y]
            for ch in seg:
                line[x] = new(char, (ch, *rest))
                x += 1
            cur.x = x
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
