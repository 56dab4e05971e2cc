"""Terminal text from crowd-code files, turned into the screen a person saw (crowd.terminal).

crowd-code 2.0 records a terminal as the last 20 lines of its *raw* output stream, split on
``\\n``: colour codes, ``\\r`` progress bars, cursor moves and all (each output line still
ends in the ``\\r`` of its CRLF), with a ``$ command`` line it inserts itself when a command
starts. crowd-code 1.0 records the raw output of each command. Shown as they are, such lines
print ``\\x1b[32m`` and every overwritten progress step. Replays and datasets need what the
terminal showed, so both importers feed the text through our terminal model
(``crowd.terminal.model.TerminalModel``, the emulator the sidecar records with, exact mode)
and keep its screen.

For 2.0 the screen is as tall as the recorded lines (at most 20) and wide enough that no
recorded line wraps (twice the raw length bounds the visible width, wide characters
included; at least 80, at most ``MAX_COLS``), so no row is pushed off the top by wrapping
that never happened.
"""
from __future__ import annotations

import re
from typing import Any

from wcwidth import wcwidth

from crowd.terminal.model import TerminalModel

MIN_COLS = 80
MAX_COLS = 1000


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def cc2_screen(raw_lines: list[str]) -> dict[str, Any]:
    """``rows``, ``cols``, ``lines`` (right-trimmed) and ``cursor`` of what 2.0's raw viewport
    lines show on a terminal.

    Plain text (no control character but the CR of a CRLF) shows as it is: it skips the
    emulator, which costs ~2 ms per screen (2.0 repeats the terminal's lines in every
    observation, so a session holds thousands of them)."""
    lines = [str(x) for x in raw_lines]
    if not lines:
        return {"rows": 0, "cols": 0, "lines": [], "cursor": [0, 0]}
    plain = [x.removesuffix("\r") for x in lines]
    if not any(_CONTROL.search(x) for x in plain) and 2 * max(len(x) for x in plain) <= MAX_COLS:
        return {"rows": len(lines), "cols": _cols(lines), "lines": [x.rstrip() for x in plain],
                "cursor": [len(lines) - 1, sum(max(wcwidth(ch), 0) for ch in plain[-1])]}
    return emulated(lines)


def _cols(lines: list[str]) -> int:
    # twice the raw length: even a line of wide characters (CJK, emoji) does not wrap
    return max(MIN_COLS, min(MAX_COLS, 2 * max(len(x) for x in lines)))


def emulated(lines: list[str]) -> dict[str, Any]:
    """``cc2_screen`` through the terminal model, whatever the lines hold."""
    if not lines:
        return {"rows": 0, "cols": 0, "lines": [], "cursor": [0, 0]}
    model = TerminalModel(len(lines), _cols(lines), fast=False)
    # each line ends where 2.0 split on "\n": the terminal's own CRLF puts the cursor at column 0
    model.feed("\r\n".join(x.removesuffix("\r") for x in lines).encode("utf-8", "surrogatepass"))
    model.catch_up()
    snap = model.snapshot(styles=False)
    return {"rows": snap["rows"], "cols": snap["cols"], "lines": [x.rstrip() for x in snap["lines"]],
            "cursor": list(snap["cursor"])}


class Cc1Terminal:
    """The one terminal of a 1.0 recording: commands are echoed behind a ``$`` prompt (1.0
    records only the command line and the output), then the raw output is emulated."""

    def __init__(self, rows: int, cols: int) -> None:
        self.model = TerminalModel(rows, cols, fast=False)

    def _screen(self) -> tuple[list[str], list[int]]:
        self.model.catch_up()
        snap = self.model.snapshot(styles=False)
        return [x.rstrip() for x in snap["lines"]], list(snap["cursor"])

    def command(self, command: str) -> tuple[list[str], list[int]]:
        _row, x = self._cursor()
        prefix = "\r\n" if x else ""
        self.model.feed(f"{prefix}$ {command}\r\n".encode("utf-8", "surrogatepass"))
        return self._screen()

    def output(self, text: str) -> tuple[list[str], list[int]]:
        # 1.0 keeps the stream's line ends as escaped \r\n or bare \n: show each as a new line
        self.model.feed(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8", "surrogatepass"))
        return self._screen()

    def _cursor(self) -> tuple[int, int]:
        _lines, cursor = self._screen()
        return cursor[0], cursor[1]
