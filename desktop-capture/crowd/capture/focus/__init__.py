"""Which application has focus, per platform, behind one interface (see base.FocusSource).

``open_focus_source()`` picks the backend for this platform. X11 runs here for real; the
macOS and Windows backends share the parsing/decision code and are unit-tested on recorded
API outputs, because neither platform can run on this project's machines.
"""
from __future__ import annotations

import sys

from crowd.capture.focus.base import SELF_APP_IDS, Allowlist, FocusInfo, FocusSource

__all__ = ["Allowlist", "FocusInfo", "FocusSource", "SELF_APP_IDS", "open_focus_source"]


def open_focus_source(display: str | None = None) -> FocusSource:
    """The focus backend for the running platform (X11 needs a window manager)."""
    if sys.platform == "darwin":
        from crowd.capture.focus.macos import MacFocusSource

        return MacFocusSource()
    if sys.platform.startswith("win"):
        from crowd.capture.focus.windows import WindowsFocusSource

        return WindowsFocusSource()
    from crowd.capture.focus.x11 import X11FocusSource

    return X11FocusSource(display)
