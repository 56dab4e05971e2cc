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
            term = self.hub.open(term_id, str(event.get("name") or term_id),
                                 int(event.get("rows") or 24), int(event.get("cols") or 80))
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
    def on_open(self, event: dict[str, Any]) -> None:
        term_id = event["terminal"]
        if event.get("crowdTerm"):
            self._skip.add(term_id)
            return
        self.hub.open(term_id, str(event.get("name") or ""), int(event.get("rows") or 24),
                      int(event.get("cols") or 80))

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
            self.hub.resize(event["terminal"], int(event["rows"]), int(event["cols"]))

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
