"""The sidecar's terminal component: one recording's view of the session's terminals.

The terminals themselves live in the session's terminal service (``session.terminals``,
service.py), fed by a ``TerminalTracker`` (tracker.py) in every recording state. The
component, which lives as long as one recording, only re-announces the terminals when its
recording starts, takes a last sample when it stops, and resets what was last recorded
after a panic.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from crowd.server.components import Component

if TYPE_CHECKING:
    from crowd.server.components import SidecarSession
    from crowd.terminal.hub import TerminalHub


class TerminalComponent(Component):
    """One recording's view of the session's terminals."""

    def __init__(self) -> None:
        self.hub: TerminalHub | None = None

    def start(self, session: SidecarSession) -> None:
        self.hub = session.terminals.tracked_hub()
        # a new recording: every open terminal's open is recorded now (start runs under the
        # session's lock, so no screen comes first), its screen at the next tick
        self.hub.announce_all()

    def stop(self) -> None:
        if self.hub is not None:
            self.hub.sample()         # the final state, while the session still records

    def panic(self, cutoff_t: int) -> None:
        """The session deleted our recent events (maybe the opens too): record every terminal's
        open and screen again at the next sample."""
        if self.hub is not None:
            self.hub.reannounce()
