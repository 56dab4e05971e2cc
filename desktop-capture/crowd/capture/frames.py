"""Frames between the grab and the encoder: the focus-switch holdback and the black-frame guard.

Holdback: a window manager raises the new window slightly before it announces the focus
change, so the last grabs before a switch away from an allowed app may already show the
disallowed window. Frames therefore wait ``guard_seconds`` (0.1 s) before they go to the
encoder, and those grabbed in that window before the switch are blanked.

Black-frame guard: an allowed app in focus, input in the last ``active_seconds`` and only
black pictures for ``black_guard_seconds`` means the capture source broke (not a dark
screen: the user is working); the recorder then alerts and reopens the grabber.

Not thread-safe: the recorder uses both under its lock.
"""
from __future__ import annotations

import collections
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FrameSink = Callable[[int, Any, bool], None]   # (slot, BGRA picture or None for black, black)


@dataclass(frozen=True)
class Grabbed:
    slot: int
    vt: float               # video-clock time of the picture
    picture: Any | None     # BGRA array; None: black
    black: bool


class FrameHoldback:
    """Holds the latest grabs back ``guard_seconds`` and blanks those near a switch away."""

    def __init__(self, guard_seconds: float, fps: float, sink: FrameSink) -> None:
        self.guard_seconds = guard_seconds
        self.keep = max(1, int(guard_seconds * fps + 0.999))   # frames the guard spans
        self.sink = sink
        self.pending: collections.deque[Grabbed] = collections.deque()
        self.blocked_at: float | None = None   # video time focus last left an allowed app

    def add(self, frame: Grabbed) -> None:
        self.pending.append(frame)

    def block_at(self, vt: float) -> None:
        """Focus left the allowlist at video time ``vt``: frames just before it go black."""
        self.blocked_at = vt

    def release(self, everything: bool = False) -> None:
        """Send the frames older than the guard (all of them with ``everything``) on."""
        block = self.blocked_at
        while self.pending and (everything or len(self.pending) > self.keep):
            f = self.pending.popleft()
            picture, black = f.picture, f.black
            if picture is not None and block is not None and block - self.guard_seconds <= f.vt <= block:
                picture, black = None, True
            self.sink(f.slot, picture, black)


class Verdict(enum.Enum):
    NONE = "none"
    CLEARED = "cleared"     # content again after an alert
    TRIPPED = "tripped"     # alert now and reopen the grabber


@dataclass
class BlackFrameGuard:
    seconds: float               # black this long while active trips the guard
    active_seconds: float        # input this recent counts as "the user is working"
    since: float | None = None   # black pictures since (or since the last attempt)
    alert: bool = False          # tripped and no content written since

    def check(self, now: float, last_input: float, captured: bool, black: bool) -> Verdict:
        """Judge one grabbed picture at monotonic time ``now``."""
        user_active = now - last_input <= self.active_seconds
        if not captured or not black or not user_active:
            if not black:
                self.since = None
                if self.alert:
                    self.alert = False
                    return Verdict.CLEARED
            return Verdict.NONE
        if self.since is None:
            self.since = now
            return Verdict.NONE
        if now - self.since >= self.seconds:
            self.since = now   # next attempt after another full interval
            self.alert = True
            return Verdict.TRIPPED
        return Verdict.NONE
