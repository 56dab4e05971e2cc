"""Commands as actions, from shell integration marks (OSC 133 / OSC 633 / OSC 7).

Shells that emit FinalTerm-style marks (VS Code's shell integration, or the bash snippet
``crowd term`` injects) bracket every command: ``A`` prompt start, ``B`` input start,
``C`` output start (the command runs), ``D;exit`` finished. VS Code's OSC 633 adds
``E;<command line>`` and ``P;Cwd=<dir>``; OSC 7 carries the cwd as a file:// URL.
Without ``E``, the command line is read off the exact screen between the ``B`` and ``C``
marks (the model stops at each mark, so the screen there is exact).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from crowd.terminal.model import ShellMark, TerminalModel


@dataclass
class _Pending:
    input_at: tuple[int, int] | None = None
    input_scroll: int = 0
    command: str | None = None
    start_t: int | None = None
    cwd: str | None = None


_ESCAPED = re.compile(r"\\x([0-9a-fA-F]{2})|\\\\")


def unescape_633(value: str) -> str:
    """VS Code escapes ``\\``, ``;`` and control characters in 633 values as ``\\xNN``."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else "\\", value)


class CommandTracker:
    """Turns one terminal's shell marks into ``terminal_command`` actions.

    ``emit(command, cwd_abs, exit_code, start_t, end_t)`` is called once per finished
    command; ``cwd_abs`` is the shell's absolute cwd (the caller makes it relative).
    """

    def __init__(self, emit: Callable[..., Any]) -> None:
        self.emit = emit
        self.cwd: str | None = None
        self._cur = _Pending()
        self._running = False

    def on_mark(self, model: TerminalModel, mark: ShellMark, t: int) -> None:
        args = mark.args
        if mark.code == "7":
            self.cwd = _cwd_from_url(";".join(args))
            return
        if not args:
            return
        kind = args[0]
        if kind == "A":
            if self._running:          # a prompt without D: the command's end is now
                self._finish(None, t)
        elif kind == "B":
            self._cur = _Pending(input_at=mark.cursor, input_scroll=mark.scroll_count)
        elif kind == "C":
            cur = self._cur
            if cur.command is None and cur.input_at is not None:
                cur.command = model.text_between(cur.input_at, cur.input_scroll).strip() or None
            cur.start_t = t
            cur.cwd = self.cwd
            self._running = True
        elif kind == "D":
            code = _exit_code(args[1]) if len(args) > 1 else None
            if self._running:
                self._finish(code, t)
        elif kind == "E" and len(args) > 1:
            self._cur.command = unescape_633(args[1].split(";")[0]) or None
        elif kind == "P" and len(args) > 1 and args[1].startswith("Cwd="):
            self.cwd = unescape_633(args[1][4:])

    def _finish(self, code: int | None, t: int) -> None:
        cur = self._cur
        self._running = False
        self._cur = _Pending()
        if cur.command is None and cur.start_t is None:
            return
        self.emit(command=cur.command or "", cwd_abs=cur.cwd or self.cwd, exit_code=code,
                  start_t=cur.start_t if cur.start_t is not None else t, end_t=t)


def _exit_code(text: str) -> int | None:
    """An exit status from a mark; None unless it is a plain (ASCII, sane-length) integer:
    marks are program output, and ``int()`` raises on Unicode digits and 4,300+ digits."""
    digits = text[1:] if text.startswith("-") else text
    if digits.isascii() and digits.isdigit() and len(digits) <= 10:
        return int(text)
    return None


def _cwd_from_url(value: str) -> str | None:
    if value.startswith("file://"):
        try:
            return unquote(urlparse(value).path) or None
        except ValueError:            # "file://[x/": a malformed host part is output, not an error
            return None
    return value or None


# Injected into bash by ``crowd term`` (after the user's own rc files), so that commands
# become actions even where no terminal integration is installed.
BASH_INTEGRATION = r"""
if [ -z "$__crowd_si" ]; then
__crowd_si=1
[ -f ~/.bashrc ] && . ~/.bashrc
__crowd_prompt() {
  local ec=$?
  printf '\e]133;D;%s\a\e]7;file://%s%s\a' "$ec" "${HOSTNAME:-localhost}" "$PWD"
}
PROMPT_COMMAND="__crowd_prompt${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
PS1="\[\e]133;A\a\]${PS1}\[\e]133;B\a\]"
PS0="${PS0}\e]133;C\a"
fi
"""
