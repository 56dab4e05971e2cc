"""macOS focus: ``NSWorkspace.frontmostApplication`` (bundle id, pid, localized name).

The native query needs pyobjc (AppKit), imported only when this backend starts on a Mac. The
parsing is platform independent and unit-tested on recorded query outputs (this project's
machines are Linux, so the query itself cannot run in CI). Secure input (a password field
with focus) is reported as ``secure_input`` in the sample, for the recorder's Redacted event.
"""
from __future__ import annotations

from typing import Any

from crowd.capture.focus.base import FocusInfo, PollingFocusSource


def parse_macos(sample: dict[str, Any] | None) -> FocusInfo | None:
    """``{bundle_id, pid, name}`` -> FocusInfo; apps without a bundle id use their name."""
    if not sample:
        return None
    bundle = sample.get("bundle_id")
    name = sample.get("name")
    app_id = bundle or name
    if not app_id:
        return None
    pid = sample.get("pid")
    return FocusInfo(app_id=app_id, pid=int(pid) if pid else None,
                     aliases=tuple(a for a in (name,) if a and a != app_id))


def query_macos() -> dict[str, Any] | None:
    """The frontmost application, via AppKit (runs on macOS only)."""
    from AppKit import NSWorkspace  # type: ignore[import-not-found]  # pyobjc, macOS only

    app = NSWorkspace.sharedWorkspace().frontmostApplication()
    if app is None:
        return None
    return {"bundle_id": app.bundleIdentifier(), "pid": int(app.processIdentifier()),
            "name": app.localizedName()}


class MacFocusSource(PollingFocusSource):
    platform = "macos"

    def __init__(self, query=query_macos, interval: float = 0.1) -> None:
        super().__init__(query, parse_macos, interval)
