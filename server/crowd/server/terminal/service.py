"""The session's terminal service: one per session, owned by it (``session.terminals``).

WHY the session owns it: terminals outlive recordings (a screen is the sum of all output,
paused or not), so they cannot belong to the per-recording ``TerminalComponent``; and a
module-level registry keyed by session hid who owned them. ``Session`` creates this object;
the sidecar attaches it at ``initialize`` (when the terminal component is enabled), the
component uses it while recording, and other components (attribution) ask it which program
runs in each terminal instead of probing the component list.

Nothing runs until ``attach``/``track``: the hub, its 10 Hz sampler and its bus subscriptions
are created then (``crowd.terminal`` is imported only then, ~80 ms).
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from crowd.panic import FORGET_SCREEN

if TYPE_CHECKING:
    from crowd.server.components import SidecarSession
    from crowd.server.terminal.tracker import TerminalTracker
    from crowd.terminal.hub import TerminalHub

COMPONENT_SPEC = "crowd.server.terminal.component:TerminalComponent"


class TerminalService:
    """The session's terminals: tracked from ``attach`` (or ``track``) until ``close``."""

    def __init__(self, session: SidecarSession) -> None:
        self.session = session
        self._tracker: TerminalTracker | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """The session runs the terminal component (``components`` setting / factories)."""
        return COMPONENT_SPEC in self.session.component_factories

    def attach(self) -> TerminalTracker | None:
        """Track the session's terminals from now on if its terminal component is enabled."""
        return self.track() if self.enabled else None

    def track(self) -> TerminalTracker:
        """The session's terminals (created on first use, then kept until ``close``)."""
        with self._lock:
            if self._tracker is None:
                from crowd.server.terminal.tracker import TerminalTracker  # noqa: PLC0415 - optional part

                self._tracker = TerminalTracker(self.session)
            return self._tracker

    def new_recording(self) -> None:
        """A recording is about to become active: it holds no terminal's open yet. Called by
        the session under its lock before the recording is active, so the sampler never
        judges the new recording by the previous one's flags."""
        hub = self.hub
        if hub is not None:
            hub.reannounce()

    def tracked_hub(self) -> TerminalHub:
        """The terminals' hub, tracking from now on if it was not yet (the terminal component)."""
        return self.track().hub

    @property
    def hub(self) -> TerminalHub | None:
        tracker = self._tracker
        return tracker.hub if tracker is not None else None

    def summary(self) -> dict[str, dict[str, Any]] | None:
        """The terminals for ``crowd/status`` (None when they are not tracked)."""
        tracker = self._tracker
        return tracker.summary() if tracker is not None else None

    def foreground_programs(self) -> dict[str, str | None]:
        """{terminal id: program in its foreground} ({} when no terminal is tracked)."""
        hub = self.hub
        if hub is None:
            return {}
        return {term_id: hub.foreground(term_id) for term_id in list(hub.terminals)}

    def forget_screens(self) -> None:
        """After a panic: every terminal's model forgets what its screen and scrollback showed
        (erase display and scrollback, cursor and modes kept), so the screens recorded next
        hold only output that came after; the deleted output is never recorded again."""
        hub = self.hub
        if hub is None:
            return
        for term_id in list(hub.terminals):
            hub.output(term_id, FORGET_SCREEN)

    def close(self) -> None:
        """The session is over: stop the sampler and forget the terminals."""
        with self._lock:
            tracker, self._tracker = self._tracker, None
        if tracker is not None:
            tracker.close()
