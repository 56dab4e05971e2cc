"""One terminal's screen, kept exact and current however fast output arrives.

``feed`` only appends bytes (the hot path does no emulation). ``catch_up`` brings the screen
up to date with everything fed so far; it emulates only the bytes that can still matter:

*Convergence.* Take a stretch of output made only of text, CR, LF and row-local sequences
(SGR, EL, ECH, horizontal moves...), with the scroll region covering the whole screen. Start
two terminals in *any* two screen states at the same CR (column 0 in both) and feed them the
stretch: once it holds ``2 * rows - 1`` line feeds, both cursors have reached the bottom row
and every row present before has been scrolled off in both, so the screens are identical
from then on. So for each pending span we find the last such point ``p`` and feed pyte only
``[p, end)``, after replaying the bytes before ``p`` that change state which is not screen
content (modes, charsets, scroll region, and the SGRs after the last SGR reset). Sequences
whose effect depends on the exact screen at that moment (save cursor, alternate screen,
tab stops, shell integration marks) split the span, and the bytes before them are emulated
exactly. The result is the same screen naive feeding would give, at every sample; tests
check that against naive feeding and against tmux.
"""
from __future__ import annotations

import codecs
import re
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from crowd.terminal import tokens as tk
from crowd.terminal.screen import TerminalScreen, TerminalStream

MAX_HELD_TAIL = 65536          # an unfinished sequence longer than this is garbage (a string's
                               # rest is then discarded up to its end, as tmux discards it)
MAX_TITLES = 64                # title stack depth (CSI 22 t); tmux has no bound, xterm keeps 10
SCAN_PIECE = 4 * 1024 * 1024   # catch up in pieces so one call never holds the GIL long
SMALL_BATCH = 256 * 1024        # below this, chunks are applied one by one (exact mark times)


@dataclass
class ShellMark:
    """An OSC 133/633/7 mark with the exact screen position where it occurred."""
    code: str
    args: list[str]
    cursor: tuple[int, int]
    scroll_count: int
    t: int           # arrival time of the output chunk holding it (caller's clock)


@dataclass
class ModelStats:
    bytes_in: int = 0
    chars_emulated: int = 0
    chars_skipped: int = 0


ShellHandler = Callable[["TerminalModel", ShellMark], None]


class TerminalModel:
    """Screen state of one terminal; thread-safe ``feed``/``resize``/``catch_up``/``snapshot``."""

    def __init__(self, rows: int = 24, cols: int = 80, *, fast: bool = True,
                 on_shell: ShellHandler | None = None) -> None:
        self.screen = TerminalScreen(cols, rows)
        self.stream = TerminalStream(self.screen)
        self.fast = fast
        self.on_shell = on_shell
        self.title = ""
        self.titles: list[str] = []       # CSI 22;0 t pushes the title here, CSI 23;0 t pops
        self.stats = ModelStats()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending: list[tuple[bytes, int]] = []
        self.now_t = 0                     # arrival time of the bytes being applied
        self.bytes_applied = 0             # output bytes the screen reflects (for oracles)
        self._held = ""                    # unfinished escape sequence from the last catch-up
        self._discarding = ""              # "osc"/"dcs": inside an overlong string, up to its end
        self._lock = threading.Lock()      # guards _pending
        self._emulate = threading.RLock()  # one catch-up at a time
        self.version = 0                   # bumps whenever anything was applied
        self._csi_dispatch: dict[str, Any] = {}

    @property
    def rows(self) -> int:
        return self.screen.lines

    @property
    def cols(self) -> int:
        return self.screen.columns

    # -- input -------------------------------------------------------------------------------
    def feed(self, data: bytes, t: int = 0) -> None:
        """Queue output bytes that arrived at time ``t``; cheap, never emulates."""
        if data:
            with self._lock:
                self._pending.append((data if isinstance(data, bytes) else bytes(data), t))
                self.stats.bytes_in += len(data)

    def resize(self, rows: int, cols: int) -> None:
        """Apply a resize at this point of the stream (bytes before it use the old size)."""
        with self._emulate:
            self.catch_up()
            if (rows, cols) != (self.rows, self.cols):
                self.screen.resize(rows, cols)
                self.version += 1

    @property
    def mid_sequence(self) -> bool:
        """True while the bytes applied end inside an escape sequence or UTF-8 character."""
        return bool(self._held or self._discarding or self._decoder.getstate()[0])

    def pending_bytes(self) -> int:
        with self._lock:
            return sum(len(c) for c, _t in self._pending)

    # -- emulation ---------------------------------------------------------------------------
    def emulation_lock(self) -> AbstractContextManager[bool]:
        """Held, no other thread catches up or resizes: a sampler reads ``version`` and takes
        the ``snapshot`` of the same state (re-entrant: ``catch_up`` inside is fine)."""
        return self._emulate

    def catch_up(self) -> bool:
        """Apply everything fed so far; returns whether anything was applied."""
        with self._emulate:
            with self._lock:
                chunks, self._pending = self._pending, []
            if not chunks:
                return False
            self.bytes_applied += sum(len(c) for c, _t in chunks)
            if len(chunks) > 1 and sum(len(c) for c, _t in chunks) < SMALL_BATCH:
                groups = chunks          # interactive output: keep each chunk's arrival time
            else:
                groups = [(b"".join(c for c, _t in chunks), chunks[-1][1])]
            for data, t in groups:
                self.now_t = t
                for start in range(0, len(data), SCAN_PIECE):
                    piece = data[start:start + SCAN_PIECE]
                    text = self._held + self._decoder.decode(piece)
                    self._held = ""
                    if self._discarding:
                        text = self._discard_string(text)
                    self._apply(self._hold_unfinished(text))
            self.version += 1
            return True

    def _hold_unfinished(self, text: str) -> str:
        k = text.rfind("\x1b")
        if k < 0:
            return text
        j = max(text.rfind(opener) for opener in _STRING_OPENERS)
        if j >= 0 and _string_open(text, j):
            if len(text) - j <= MAX_HELD_TAIL:
                self._held = text[j:]
            else:
                self._discarding = "dcs" if text[j + 1] == "P" else "osc"
                self._held = "\x1b" if _odd_escs(text) else ""   # may be the start of ST
            return text[:j]
        if len(text) - k > MAX_HELD_TAIL:
            return text
        candidates = [k]
        k2 = text.rfind("\x1b", 0, k)
        if k2 >= 0 and k == len(text) - 1:
            candidates.insert(0, k2)     # "\x1b]0;tit\x1b": the OSC itself is unfinished
        for c in candidates:
            if tk.FULL_RE.match(text, c) is None and tk.INCOMPLETE_RE.match(text, c):
                self._held = text[c:]
                return text[:c]
        return text

    def _discard_string(self, text: str) -> str:
        """Drop the rest of an overlong string sequence, up to where tmux ends it."""
        if self._discarding == "dcs":
            m = _DCS_REST.match(text)
            if m.group(1) is None:          # no ST yet: all of it is the string's
                self._held = "\x1b" if m.group(0).endswith("\x1b") and _odd_escs(m.group(0)) else ""
                return ""
        else:
            m = _OSC_REST.match(text)
            if m.group(1) is None and m.end() == len(text):
                return ""                   # no end yet (an ESC, CAN or SUB would end it)
        self._discarding = ""
        return text[m.end():]

    def _apply(self, s: str) -> None:
        if not s:
            return
        # Non-SGR tokens of the whole span: few in bulk output, none in plain text.
        scan = _scan(s)
        seg_start = 0
        seg_tokens: list[tuple] = []
        for tok in scan:
            start, end, cat, feed, m = tok
            if cat == tk.TITLE:
                self._title(feed, m)
                continue
            if cat in (tk.BARRIER, tk.SHELL):
                self._segment(s, seg_start, start, seg_tokens)
                if cat == tk.BARRIER:
                    if feed[-1] != "b":       # REP repeats the character printed before
                        self.screen.forget_last_char()
                    self.stream.feed(feed)
                    self.stats.chars_emulated += end - start
                else:
                    self._shell(m)
                seg_start, seg_tokens = end, []
            else:
                seg_tokens.append(tok)
        self._segment(s, seg_start, len(s), seg_tokens)

    def _segment(self, s: str, a: int, b: int, toks: list[tuple]) -> None:
        if a >= b:
            return
        p = self._convergence(s, a, b, toks) if self.fast else None
        if p is None:
            self._feed_exact(s, a, b)
            return
        self.screen.drop_content()     # stale from here on: the history must not keep it
        parts = [feed for (start, end, cat, feed, _m) in toks
                 if end <= p and cat in (tk.STATE, tk.STATE_MOVE)]
        parts.append(_sgr_chain(s, a, p))
        replay = "".join(parts)
        if replay:
            self.stream.feed(replay)
        self.stats.chars_skipped += p - a
        self._feed_exact(s, p, b)

    def _convergence(self, s: str, a: int, b: int, toks: list[tuple]) -> int | None:
        """The last CR in [a, b) after which the screen no longer depends on what came before."""
        need = 2 * self.rows
        if b - a < need * 2:
            return None
        # _scan skips only SGR and EL, which are row-local: every row mover is in toks, and
        # so is every string holding CR/LF (they are no line feeds: the count stops there).
        breaks = [t for t in toks if t[2] in (tk.MOVE, tk.STATE_MOVE)
                  or (t[2] != tk.LOCAL and _holds_line_break(t[4]))]
        stretch_end = b
        for i in range(len(breaks), -1, -1):
            stretch_start = breaks[i - 1][1] if i > 0 else a
            p = _converging_cr(s, stretch_start, stretch_end, need)
            if p is not None and self._full_region_at(p, toks):
                return p
            if i > 0:
                stretch_end = breaks[i - 1][0]
        return None

    def _full_region_at(self, p: int, toks: list[tuple]) -> bool:
        margins = self.screen.margins
        rows = self.rows
        region = (margins.top, margins.bottom) if margins else None
        for (start, end, cat, feed, m) in toks:
            if end > p:
                break
            if cat == tk.STATE_MOVE and feed.endswith("r"):
                region = _apply_decstbm(region, feed, rows)
        return region is None or region == (0, rows - 1)

    def _feed_exact(self, s: str, a: int, b: int) -> None:
        """Emulate every byte of [a, b). Text goes through pyte's stream (its plain-text fast
        path and the C0 controls); CSI sequences, already parsed here, are dispatched to the
        screen directly instead of through pyte's character-at-a-time parser."""
        parts: list[str] = []
        pos = a
        feed_text = self.stream.feed
        dispatch = self._csi_dispatch
        screen = self.screen
        for m in tk.FULL_RE.finditer(s, a, b):
            start = m.start()
            if start > pos:
                parts.append(_no_esc(s[pos:start]))
            cat, feed = tk.classify(m)
            if parts:
                feed_text("".join(parts))
                parts = []
            screen.forget_last_char()     # REP repeats only a character printed right before
            if cat == tk.TITLE:
                pass                      # titles were applied in order by _apply
            elif feed:
                call = dispatch.get(feed)
                if call is None:
                    call = self._csi_call(feed)
                if call is False:
                    parts.append(feed)
                else:
                    if parts:
                        feed_text("".join(parts))
                        parts = []
                    call[0](*call[1], **call[2])
            pos = m.end()
        if pos < b:
            parts.append(_no_esc(s[pos:b]))
        if parts:
            feed_text("".join(parts))
        self.stats.chars_emulated += b - a

    def _title(self, feed: str, m: re.Match) -> None:
        """OSC 0/2 and APC set the title; CSI 22;0 t / 22;2 t push it, CSI 23;0 t / 23;2 t
        pop it (tmux 3.3a ignores 22 t without the second parameter, and a pop of an empty
        stack). As in tmux, a title holding DEL, a C1 control or invalid UTF-8 is refused."""
        if feed == tk.TITLE_PUSH:
            self.titles.append(self.title)
            del self.titles[:-MAX_TITLES]
        elif feed == tk.TITLE_POP:
            if self.titles:
                self.title = self.titles.pop()
        else:
            text = _title_text(m.group("str") if feed == tk.TITLE_APC else _osc_text(m))
            if text is not None:
                self.title = text

    def _csi_call(self, feed: str) -> Any:
        """(method, args, kwargs) for a CSI pyte would dispatch, or False (feed it as text).

        ``feed`` is the canonical CSI of ``tokens.csi_text`` (plain parameters, capped, no
        more than the final takes), so this mirrors pyte's parser exactly: parameters default
        to 0; a leading '?' makes the call private. Cached per sequence (a handful of
        distinct ones repeat)."""
        call: Any = False
        cf = feed[-1]
        name = TerminalStream.csi.get(cf)
        if feed.startswith("\x1b[") and name is not None:
            cp = feed[2:-1]
            private = cp.startswith("?")
            body = cp[1:] if private else cp
            if not body or body.replace(";", "").isdigit():
                params = tuple(int(x or 0) for x in body.split(";"))
                call = (getattr(self.screen, name), params, {"private": True} if private else {})
        if len(self._csi_dispatch) > 4096:
            self._csi_dispatch.clear()
        self._csi_dispatch[feed] = call
        return call

    def _shell(self, m: re.Match) -> None:
        payload = m.group("osc") or ""
        code, _, rest = payload.partition(";")
        self.screen.forget_last_char()
        mark = ShellMark(code=code, args=rest.split(";") if rest else [],
                         cursor=self.screen.cursor_pos(), scroll_count=self.screen.scroll_count,
                         t=self.now_t)
        if code == "633" and mark.args[:1] == ["E"]:
            mark.args = ["E", rest[2:]]       # the command line may contain ';'
        if self.on_shell is not None:
            self.on_shell(self, mark)

    # -- output ------------------------------------------------------------------------------
    def snapshot(self, styles: bool = True) -> dict[str, Any]:
        """The visible screen as a terminal_screen observation body (without header)."""
        with self._emulate:
            scr = self.screen
            snap: dict[str, Any] = {
                "rows": scr.lines, "cols": scr.columns, "lines": scr.text_lines(),
                "cursor": list(scr.cursor_pos()), "cursor_visible": not scr.cursor.hidden,
                "title": self.title, "alt_screen": scr.alt_screen,
                "output_bytes": self.bytes_applied,
            }
            if styles:
                snap["styles"] = style_runs(scr)
            return snap

    def text_between(self, start: tuple[int, int], start_scroll: int) -> str:
        """Screen text from an earlier cursor position (adjusted for scrolling) to the cursor."""
        scr = self.screen
        row0 = start[0] - (scr.scroll_count - start_scroll)
        row1, col1 = scr.cursor_pos()
        lines = scr.text_lines()
        if row0 < 0 or row0 > row1:
            return ""
        if row0 == row1:
            return lines[row0][start[1]:col1]
        out = [lines[row0][start[1]:]]
        out.extend(lines[row0 + 1:row1])
        out.append(lines[row1][:col1])
        return "".join(x.rstrip() if i < len(out) - 1 else x for i, x in enumerate(out))


def _scan(s: str) -> list[tuple]:
    """Every token of ``s`` that matters when bytes are skipped: all but SGR, EL and the
    controls that do nothing. Finds ESCs with a literal-prefixed pattern (hundreds of MB/s)
    and parses only at those positions."""
    found: list[tuple] = []
    if "\x1b" in s:
        end = 0
        full_match = tk.FULL_RE.match
        for c in tk.ESC_CANDIDATE_RE.finditer(s):
            pos = c.start()
            if pos < end:
                continue              # the ST that ends an OSC/DCS string, ESCs inside a DCS
            m = full_match(s, pos)
            if m is None:
                continue              # malformed: dropped when fed
            end = m.end()
            cat, feed = tk.classify(m)
            if cat != tk.DROP or (end - pos > 2 and _holds_line_break(m)):
                found.append((pos, end, cat, feed, m))
    if "\x0e" in s or "\x0f" in s:
        shifts = [(m.start(), m.end(), tk.STATE, m.group(0), m) for m in tk.SHIFT_RE.finditer(s)]
        found = sorted(found + shifts, key=lambda t: t[0])
    return found


def _osc_text(m: re.Match) -> str:
    payload = m.group("osc") or ""
    return payload.split(";", 1)[1] if ";" in payload else ""


def _title_text(text: str) -> str | None:
    """A title as tmux keeps it: without C0 controls; None (refused) with DEL, a C1 control
    or a character that was invalid UTF-8."""
    if _REFUSED_IN_TITLE.search(text):
        return None
    return text if text.isprintable() else _C0.sub("", text)


_STRING_OPENERS = ("\x1b]", "\x1bP", "\x1bX", "\x1b^", "\x1b_", "\x1bk")
_C0 = re.compile(r"[\x00-\x1f]")
_REFUSED_IN_TITLE = re.compile("[\x7f-\x9f\ufffd]")
# The rest of an overlong string sequence: an OSC/SOS/PM/APC string ends at BEL or ST or
# before ESC/CAN/SUB; a DCS string only at ST, an ESC in it taking the next character along.
_OSC_REST = re.compile(r"[^\x07\x18\x1a\x1b]*(?:(\x07|\x1b\\)|(?=[\x18\x1a\x1b]))?")
_DCS_REST = re.compile(r"[^\x1b]*(?:\x1b[^\\][^\x1b]*)*(\x1b\\)?\x1b?")


def _odd_escs(text: str) -> bool:
    """Whether ``text`` ends in an ESC that starts a pair (not the second of ``ESC ESC``)."""
    n = len(text) - len(text.rstrip("\x1b"))
    return n % 2 == 1


def _string_open(text: str, j: int) -> bool:
    """Whether the string sequence starting at ``j`` may not have ended by the end of text."""
    m = tk.FULL_RE.match(text, j)
    if m is None:
        return tk.INCOMPLETE_RE.match(text, j) is not None
    if m.group(0).endswith(("\x07", "\x1b\\")):
        return False
    # Reaching the end, or cut short by an ESC that ends the text (it may start ST).
    return m.end() == len(text) or (m.end() == len(text) - 1 and text[-1] == "\x1b")


def _holds_line_break(m: re.Match) -> bool:
    text = m.group(0)
    return "\n" in text or "\r" in text


def _no_esc(text: str) -> str:
    """Text between tokens; an ESC here matched no sequence (malformed) and is dropped."""
    return text.replace("\x1b", "") if "\x1b" in text else text


def _converging_cr(s: str, a: int, b: int, need: int) -> int | None:
    """The last CR in [a, b) followed by at least ``need`` line feeds before ``b``."""
    pos = b
    for _ in range(need):
        pos = s.rfind("\n", a, pos)
        if pos < 0:
            return None
    cr = s.rfind("\r", a, pos)
    return cr if cr >= 0 else None


def _sgr_chain(s: str, a: int, p: int) -> str:
    """The SGRs in [a, p) from the last full reset on: all that decides the rendition at p."""
    width = 4096
    while True:
        lo = max(a, p - width)
        found = list(tk.SGR_RE.finditer(s, lo, p))
        for i in range(len(found) - 1, -1, -1):
            if tk.sgr_resets(found[i].group(1)):
                return _sgr_text(found[i:])
        if lo == a:
            return _sgr_text(found)
        width *= 8


def _sgr_text(found: list[re.Match]) -> str:
    """The SGRs found, each in the canonical form pyte is fed (parameters capped)."""
    return "".join(m.group(0) if len(m.group(0)) <= 32 else (tk.csi_text(m.group(1), "m") or "")
                   for m in found)


def _apply_decstbm(region: tuple[int, int] | None, feed: str, rows: int) -> tuple[int, int] | None:
    """What pyte's set_margins does with ``CSI t;b r``, on a (top, bottom) pair."""
    params = [int(x) if x else 0 for x in feed[2:-1].split(";")] if feed[2:-1] else [0]
    top = params[0] if params else None
    bottom = params[1] if len(params) > 1 else None
    if (top is None or top == 0) and bottom is None:
        return None
    cur = region or (0, rows - 1)
    t = cur[0] if top is None else max(0, min(top - 1, rows - 1))
    bt = cur[1] if bottom is None else max(0, min(bottom - 1, rows - 1))
    if bt - t >= 1:
        return (t, bt)
    return region


_PLAIN = ("default", "default", False, False, False, False, False, False)
_FLAGS = (("bold", "b"), ("italics", "i"), ("underscore", "u"), ("reverse", "r"),
          ("strikethrough", "s"), ("blink", "k"))


def style_runs(screen: TerminalScreen) -> list[list[list[Any]]]:
    """Per row, runs ``[col, length, style]`` of cells that are not default-styled.

    ``style`` is a compact string: ``fg``/``bg`` colour names or hex, then flag letters
    (b bold, i italics, u underline, r reverse, s strike, k blink), e.g. ``"red/default/br"``.
    Enough to tell selections, highlights and error colours apart; positions are cells.
    """
    out: list[list[list[Any]]] = []
    cols = screen.columns
    for y in range(screen.lines):
        row = screen.buffer.get(y)
        runs: list[list[Any]] = []
        if row:
            cur = None
            start = 0
            for x in range(cols):
                c = row[x]
                if c[1:] == _PLAIN:
                    key = None
                else:
                    flags = "".join(letter for name, letter in _FLAGS if getattr(c, name))
                    key = f"{c.fg}/{c.bg}/{flags}"
                if key != cur:
                    if cur is not None:
                        runs.append([start, x - start, cur])
                    cur, start = key, x
            if cur is not None:
                runs.append([start, cols - start, cur])
        out.append(runs)
    return out
