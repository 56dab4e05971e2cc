"""All terminals of a session, their actions, and the 10 Hz screen sampler.

The hub is what both sources feed: the sidecar's terminal component (editor bridge events)
and ``crowd term``'s capture process. It records through one ``record(type_, kind,
**fields)`` callable (``Session.record`` or the standalone sink), so it knows nothing about
where events end up.

Sampling: every ``interval`` seconds each terminal is brought up to date (see model.py) and
a ``terminal_screen`` observation is recorded for every terminal whose screen changed since
its last observation — focused or not (the focused one is flagged) — and nothing for the
others. A burst's final state is always recorded: the first tick after the burst sees it,
and ``close``/``stop`` take a last sample.

Recording may be off (paused, stopped, before consent: ``active()`` is false) while output
keeps coming. The models still absorb every byte (the sampler keeps catching up) but nothing
is sampled; when recording is on again, the first tick records every screen that differs
from the last one recorded, and a ``terminal_open`` for terminals the recording has not seen
(opened meanwhile, or a new recording: ``reannounce``).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crowd.terminal.model import ShellMark, TerminalModel
from crowd.terminal.shell import CommandTracker

log = logging.getLogger(__name__)

Record = Callable[..., Any]
SAMPLE_INTERVAL = 0.1
BRACKET_OPEN, BRACKET_CLOSE = "\x1b[200~", "\x1b[201~"


@dataclass
class Terminal:
    id: str
    name: str
    model: TerminalModel
    program: Callable[[], str | None] | None = None
    focused: bool = False
    program_name: str | None = None
    last_key: tuple | None = None
    last_seen: tuple | None = None     # (model version, focused) at the last sample
    withholding: bool = False
    commands: CommandTracker | None = None
    observations: int = 0
    announced: bool = False            # the current recording holds this terminal's open
    extra: dict[str, Any] = field(default_factory=dict)


class TerminalHub:
    """Terminals by id; thread-safe; records actions immediately and screens at 10 Hz."""

    def __init__(self, record: Record, *, now: Callable[[], int] | None = None,
                 rel_path: Callable[[str], str | None] | None = None,
                 interval: float = SAMPLE_INTERVAL, styles: bool = True,
                 active: Callable[[], bool] | None = None) -> None:
        self.record = record
        self.active = active or (lambda: True)
        self.now = now or (lambda: int(time.monotonic() * 1e6))
        self.rel_path = rel_path or (lambda _p: None)
        self.interval = interval
        self.styles = styles
        self.terminals: dict[str, Terminal] = {}
        # closes the recording missed (it was off): (close fields) recorded when it is back on
        self._unrecorded_closes: list[dict[str, Any]] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.samples = 0
        self.last_sample_t = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="crowd-terminal-sampler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.sample()

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            next_at += self.interval
            delay = next_at - time.monotonic()
            if delay > 0:
                if self._stop.wait(delay):
                    break
            else:
                next_at = time.monotonic()      # fell behind: sample now, do not burst
            try:
                self.sample()
            except Exception:  # noqa: BLE001 - a bad terminal must not stop sampling the others
                log.exception("terminal sampling failed")

    # -- terminals -------------------------------------------------------------------------
    def open(self, term_id: str, name: str = "", rows: int = 24, cols: int = 80, *,
             program: Callable[[], str | None] | None = None, fast: bool = True) -> Terminal:
        with self._lock:
            if term_id in self.terminals:
                return self.terminals[term_id]
            term = Terminal(term_id, name, TerminalModel(rows, cols, fast=fast), program=program)
            term.commands = CommandTracker(lambda **kw: self._command(term, **kw))
            term.model.on_shell = lambda model, mark: self._on_mark(term, mark)
            self.terminals[term_id] = term
        self._announce(term)
        return term

    def _announce(self, term: Terminal) -> None:
        """Record ``term``'s open unless this recording holds it already.

        The flag is claimed under the hub's lock before recording, so the sampler and a
        recording's start (``announce_all``) never both write the open."""
        with self._lock:
            if term.announced:
                return
            term.announced = True
        if self.record("action", "terminal_open", source="user", terminal=term.id,
                       name=term.name, rows=term.model.rows, cols=term.model.cols) is None:
            with self._lock:
                term.announced = False

    def reannounce(self) -> None:
        """A new recording (or a panic that may have deleted the opens): record every terminal's
        open and screen again at the next tick."""
        with self._lock:
            self._unrecorded_closes = []    # a new recording never saw those terminals
            for term in self.terminals.values():
                term.announced = False
                term.last_key = None
                term.last_seen = None

    def announce_all(self) -> None:
        """A new recording started: record the open of every terminal it does not hold yet.

        The recorder calls ``reannounce`` before its recording becomes active and this right
        after, while it holds its own lock, so no screen of the new recording is written
        before its terminal's open. Leaving the opens to the next sampler tick let a screen
        come first (the sampler had decided on the old recording's flags) and, when the
        recording was paused before that tick, left the terminal without an open: its close
        was then dropped as belonging to no recorded terminal."""
        with self._lock:
            terms = list(self.terminals.values())
        for term in terms:
            self._announce(term)

    def get(self, term_id: str) -> Terminal | None:
        return self.terminals.get(term_id)

    def close(self, term_id: str, exit_code: int | None = None) -> None:
        term = self.terminals.get(term_id)
        if term is None:
            return
        self._sample_one(term)
        with self._lock:
            self.terminals.pop(term_id, None)
        fields = {"source": "user", "terminal": term_id, "name": term.name, "rows": term.model.rows,
                  "cols": term.model.cols, "exit_code": exit_code}
        if self.record("action", "terminal_close", **fields) is None and term.announced:
            with self._lock:
                self._unrecorded_closes.append(fields)

    def focus(self, term_id: str | None) -> None:
        with self._lock:
            for t in self.terminals.values():
                t.focused = t.id == term_id
        term = self.terminals.get(term_id) if term_id else None
        self.record("action", "terminal_focus", source="user", terminal=term_id,
                    name=term.name if term else None,
                    rows=term.model.rows if term else None, cols=term.model.cols if term else None)

    def resize(self, term_id: str, rows: int, cols: int) -> None:
        term = self.terminals.get(term_id)
        if term is None or rows <= 0 or cols <= 0:
            return
        if (rows, cols) == (term.model.rows, term.model.cols):
            return
        self._sample_one(term)            # the screen before the resize, at its old size
        term.model.resize(rows, cols)
        self.record("action", "terminal_resize", source="user", terminal=term_id, name=term.name,
                    rows=rows, cols=cols)

    def output(self, term_id: str, data: bytes, t: int | None = None) -> None:
        term = self.terminals.get(term_id)
        if term is not None:
            term.model.feed(data, self.now() if t is None else t)

    def input(self, term_id: str, data: bytes | str, *, echo_off: bool = False) -> None:
        """Keys or a paste typed into a terminal; withheld while the terminal hides echo.

        Only one event marks a withheld stretch (no per-key events: their count and timing
        would leak the secret's length).
        """
        term = self.terminals.get(term_id)
        if term is None:
            return
        if echo_off:
            if not term.withholding:
                term.withholding = True
                self.record("action", "terminal_input", source="user", terminal=term_id,
                            data=None, paste=False, withheld=True)
            return
        term.withholding = False
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        paste = False
        if BRACKET_OPEN in text:
            paste = True
            text = text.replace(BRACKET_OPEN, "").replace(BRACKET_CLOSE, "")
        elif len(text) >= 4 and not text.startswith("\x1b") and sum(ch.isprintable() for ch in text) >= 4:
            paste = True    # several printable characters in one read: typed that fast only by pasting
        if text:
            self.record("action", "terminal_input", source="user", terminal=term_id, data=text,
                        paste=paste)

    def set_program(self, term_id: str, name: str | None) -> None:
        term = self.terminals.get(term_id)
        if term is not None:
            term.program_name = name

    def record_command(self, term_id: str, command: str, cwd_abs: str | None, exit_code: int | None,
                       start_t: int, end_t: int) -> None:
        term = self.terminals.get(term_id)
        if term is not None:
            self._command(term, command=command, cwd_abs=cwd_abs, exit_code=exit_code,
                          start_t=start_t, end_t=end_t)

    def foreground(self, term_id: str) -> str | None:
        """Name of the program in the terminal's foreground (claude, codex, vim, bash...)."""
        term = self.terminals.get(term_id)
        if term is None:
            return None
        if term.program is not None:
            try:
                term.program_name = term.program() or term.program_name
            except OSError:
                pass
        return term.program_name

    # -- internals -------------------------------------------------------------------------
    def _on_mark(self, term: Terminal, mark: ShellMark) -> None:
        if term.commands is not None:
            term.commands.on_mark(term.model, mark, mark.t)

    def _command(self, term: Terminal, *, command: str, cwd_abs: str | None, exit_code: int | None,
                 start_t: int, end_t: int) -> None:
        cwd = self.rel_path(cwd_abs) if cwd_abs else None
        self.record("action", "terminal_command", source="user", terminal=term.id, command=command,
                    cwd=cwd, exit_code=exit_code, start_t=start_t, end_t=end_t,
                    program=self.foreground(term.id))

    def sample(self) -> int:
        """One sampling tick: record every changed screen; returns how many were recorded."""
        with self._lock:
            terms = list(self.terminals.values())
            closes = self._unrecorded_closes if self._unrecorded_closes and self.active() else []
            if closes:
                self._unrecorded_closes = []
        for fields in closes:
            self.record("action", "terminal_close", **fields)
        n = sum(1 for term in terms if self._sample_one(term))
        self.samples += 1
        self.last_sample_t = self.now()
        return n

    def _sample_one(self, term: Terminal) -> bool:
        model = term.model
        if not self.active():
            model.catch_up()          # stay current (and bounded) while nothing is recorded
            return False
        if not term.announced:
            self._announce(term)
        with model.emulation_lock():
            model.catch_up()
            seen = (model.version, term.focused)
            if seen == term.last_seen:
                return False          # idle terminal: no rendering at all
            term.last_seen = seen
            snap = model.snapshot(styles=self.styles)
        key = (snap["rows"], snap["cols"], tuple(snap["lines"]), tuple(snap["cursor"]),
               snap["cursor_visible"], snap["title"], snap["alt_screen"], repr(snap.get("styles")),
               term.focused)
        if key == term.last_key:
            return False
        if self.record("observation", "terminal_screen", terminal=term.id, focused=term.focused,
                       program=self.foreground(term.id), **snap) is None:
            term.last_seen = None     # recording went off meanwhile: sample again once it is back
            return False
        term.last_key = key
        term.observations += 1
        return True
