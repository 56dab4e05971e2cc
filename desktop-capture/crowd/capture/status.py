"""What the recorder reports: its state, the tray colour and the counters.

The tray's colour is a promise to the person being recorded, so its rule lives in one small
function: green only while frames with content from an allowed app were written just now;
orange when recording is blocked (focus outside the allowlist, unknown focus, black frames);
grey when stopped or idle-paused.
"""
from __future__ import annotations

from dataclasses import dataclass

from crowd.capture.focus import Allowlist


@dataclass
class RecorderStatus:
    state: str                 # stopped | recording | paused
    tray: str                  # green | orange | grey
    context: str               # app id, UNCAPTURED or UNKNOWN
    session_id: str | None
    segment_index: int
    frames: int                # frames written in this run (repeats included)
    dropped: int               # frame slots filled by repeating (the grab was late)
    events: int                # keylog entries written in this run
    black_alert: bool
    slot: int = -1             # last frame slot captured in the live segment
    detail: str = ""


def fresh_window(fps: float) -> float:
    """How recent the last content frame must be for green: 2 s, or 3 frames at low fps."""
    return max(2.0, 3.0 / fps)


def tray_colour(state: str, context: str, fresh: bool, black_alert: bool) -> tuple[str, str]:
    """``(colour, detail line)`` for the tray."""
    if state != "recording":
        tray = "grey"
    elif Allowlist.is_captured(context) and fresh and not black_alert:
        tray = "green"
    else:
        tray = "orange"
    detail = {"green": f"recording {context}", "grey": state,
              "orange": "black frames: capture restarting" if black_alert
              else f"blocked ({context})"}[tray]
    return tray, detail
