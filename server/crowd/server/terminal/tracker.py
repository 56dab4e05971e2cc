"""A session's terminals, fed in every recording state: bus events -> ``TerminalHub``.

Subscribes to the ``terminal_*`` events the core publishes on the session bus (see
docs/protocol.md) and drives a ``TerminalHub`` that records through ``Session.record``:

- from the editor bridge: ``terminal_open/close/focus/resize``, ``terminal_data`` (raw output
  of shell executions, text) and ``terminal_exec_start/end`` (command line, cwd URI, exit
  code) which become ``terminal_command`` actions directly;
- from ``crowd term`` (capture.py, marked ``source: crowd_term``): the same kinds with
  base64 ``data`` (exact bytes), ``terminal_input`` (``hidden`` while echo is off) and the
  foreground ``program``. Bridge terminals flagged ``crowdTerm`` are skipped: their
  ``crowd term`` process reports them itself, keystroke by keystroke.

WHY persistent subscriptions: a terminal's screen is the sum of all its output, so the
models must absorb bytes that arrive while paused, stopped or before consent
(``Session.record`` writes nothing then).
"""
from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crowd.server.workspace.folders import uri_to_path
from crowd.terminal.hub import Terminal, TerminalHub

if TYPE_CHECKING:
    from crowd.server.components import SidecarSession

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]

# Sizes come from the wire: ``cols: 1e308`` (accepted before consent) took the sidecar past
# 3 GB. Real terminals: VS Code on an 8K screen with a small font is ~1,000 x 300; the
# kernel's winsize allows 65,535. Larger values are clamped (the model wraps at the bound).
MAX_ROWS = 1_000
MAX_COLS = 2_000
MAX_TERMINALS = 256          # open at once; an open beyond it is refused with a log line
MAX_ID = 200                 # characters of a terminal id


def bounded_size(value: Any, default: int, limit: int) -> int:
    """A terminal dimension from an event: an integer (or float holding one) in 1..limit;
    anything else (missing, bool, string, NaN, negative, zero) is ``default``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    if isinstance(value, float):
        if not value.is_integer():
            return default
        if value > limit:
            return limit
        value = int(value)
    if value < 1:
        return default
    return min(value, limit)


class TerminalTracker:
    """All terminals of a session, fed in every recording state."""

    def __init__(self, session: SidecarSession) -> None:
        self.session = session
        self.hub = TerminalHub(session.record, now=lambda: session.now()[0], rel_path=self._rel,
                               active=lambda: session.recording)
        self._unsubscribe: list[Callable[[], None]] = []
        self._skip: set[str] = set()
        self._execs: dict[str, dict[str, Any]] = {}
        for kind, handler in (
            ("terminal_open", self.on_open), ("terminal_close", self.on_close),
            ("terminal_focus", self.on_focus), ("terminal_resize", self.on_resize),
            ("terminal_data", self.on_data), ("terminal_input", self.on_input),
            ("terminal_exec_start", self.on_exec_start), ("terminal_exec_end", self.on_exec_end),
        ):
            self._unsubscribe.append(session.bus.subscribe(kind, self._guard(handler), persistent=True))
        self.hub.start()              # keeps the models caught up even while nothing is recorded

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            try:
                unsubscribe()
            except Exception:  # noqa: BLE001
                pass
        self._unsubscribe = []
        self.hub.stop()

    def summary(self) -> dict[str, dict[str, Any]]:
        """{id: {name, rows, cols, outputBytes, program}}: outputBytes counts every output byte
        the terminal's model has received, recording or not (clients can tell it is current)."""
        return {term.id: {"name": term.name, "rows": term.model.rows, "cols": term.model.cols,
                          "outputBytes": term.model.stats.bytes_in, "program": term.program_name}
                for term in list(self.hub.terminals.values())}

    # -- helpers ------------------------------------------------------------------------------
    def _guard(self, handler: Handler) -> Handler:
        def run(event: dict[str, Any]) -> None:
            try:
                handler(event)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("bad %s event: %s", event.get("kind"), exc)
        return run

    def _rel(self, path: str) -> str | None:
        p = uri_to_path(path) if path.startswith("file:") else path
        if p is None:
            return None
        workspace = self.session.workspace
        rel = workspace.rel_path(str(p))
        if rel:
            return rel
        found = workspace.folders.locate(str(p))        # a workspace folder itself
        if found is not None and not found[1]:
            return found[0].name if workspace.folders.multi else "."
        return None

    def _term(self, event: dict[str, Any]) -> Terminal | None:
        term_id = event.get("terminal")
        if not isinstance(term_id, str) or term_id in self._skip:
            return None
        term = self.hub.get(term_id)
        if term is None:      # output before open (e.g. sidecar restarted): open it now
            term = self._open(term_id, event.get("name") or term_id, event)
            if term is None:
                return None
        if event.get("program"):
            term.program_name = str(event["program"])
        return term

    @staticmethod
    def _bytes(event: dict[str, Any]) -> bytes:
        data = event.get("data") or ""
        if event.get("encoding") == "base64":
            return base64.b64decode(data)
        return str(data).encode("utf-8", "replace")

    # -- handlers -----------------------------------------------------------------------------
    def _open(self, term_id: str, name: Any, event: dict[str, Any]) -> Terminal | None:
        if len(term_id) > MAX_ID:
            log.warning("terminal id of %d characters refused (at most %d)", len(term_id), MAX_ID)
            return None
        if len(self.hub.terminals) >= MAX_TERMINALS and self.hub.get(term_id) is None:
            log.warning("terminal_open refused: %d terminals are open already", MAX_TERMINALS)
            return None
        return self.hub.open(term_id, str(name)[:200], bounded_size(event.get("rows"), 24, MAX_ROWS),
                             bounded_size(event.get("cols"), 80, MAX_COLS))

    def on_open(self, event: dict[str, Any]) -> None:
        term_id = event["terminal"]
        if not isinstance(term_id, str):
            raise TypeError("terminal_open 'terminal' must be a string")
        if event.get("crowdTerm"):
            if len(term_id) <= MAX_ID and len(self._skip) < MAX_TERMINALS:
                self._skip.add(term_id)
            return
        self._open(term_id, event.get("name") or "", event)

    def on_close(self, event: dict[str, Any]) -> None:
        term_id = event.get("terminal")
        if term_id in self._skip:
            self._skip.discard(term_id)
            return
        code = event.get("exitCode")
        self.hub.close(term_id, int(code) if isinstance(code, int) else None)

    def on_focus(self, event: dict[str, Any]) -> None:
        term_id = event.get("terminal")
        self.hub.focus(term_id if term_id in self.hub.terminals else None)

    def on_resize(self, event: dict[str, Any]) -> None:
        if self._term(event) is not None:
            self.hub.resize(event["terminal"], bounded_size(event.get("rows"), 0, MAX_ROWS),
                            bounded_size(event.get("cols"), 0, MAX_COLS))

    def on_data(self, event: dict[str, Any]) -> None:
        if self._term(event) is not None:
            self.hub.output(event["terminal"], self._bytes(event))

    def on_input(self, event: dict[str, Any]) -> None:
        if self._term(event) is not None:
            hidden = bool(event.get("hidden"))
            self.hub.input(event["terminal"], b"" if hidden else self._bytes(event), echo_off=hidden)

    def on_exec_start(self, event: dict[str, Any]) -> None:
        if self._term(event) is not None:
            self._execs[f"{event['terminal']}/{event.get('exec')}"] = {
                "command": event.get("command") or "", "cwd": event.get("cwd"),
                "start_t": self.hub.now()}

    def on_exec_end(self, event: dict[str, Any]) -> None:
        if self._term(event) is None:
            return
        started = self._execs.pop(f"{event['terminal']}/{event.get('exec')}", None) or {}
        code = event.get("exitCode")
        self.hub.record_command(event["terminal"], event.get("command") or started.get("command") or "",
                                event.get("cwd") or started.get("cwd"),
                                int(code) if isinstance(code, int) else None,
                                started.get("start_t", self.hub.now()), self.hub.now())
