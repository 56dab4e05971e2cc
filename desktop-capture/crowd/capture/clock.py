"""Clocks for the video timeline and suspend detection.

The video clock is the monotonic clock minus the time spent idle-paused, so resuming after
a pause continues the timeline where it stopped (input stays aligned to frames). A system
suspend is detected as a jump between the monotonic clock (which on Linux stops during
suspend) and a clock that keeps running (CLOCK_BOOTTIME on Linux, wall time elsewhere); the
recorder then starts a new segment instead of stretching one across the gap.
"""
from __future__ import annotations

import time


class Clock:
    """Real clocks; tests substitute a subclass to simulate a suspend they cannot perform."""

    def monotonic(self) -> float:
        return time.monotonic()

    def running(self) -> float:
        """A clock that keeps counting while the machine sleeps."""
        if hasattr(time, "CLOCK_BOOTTIME"):
            return time.clock_gettime(time.CLOCK_BOOTTIME)
        return time.time()

    def wall(self) -> float:
        return time.time()


class SuspendDetector:
    """Reports the length of a suspend since the previous check (None when there was none)."""

    def __init__(self, clock: Clock, threshold: float = 2.0) -> None:
        self.clock = clock
        self.threshold = threshold
        self._offset = clock.running() - clock.monotonic()

    def check(self) -> float | None:
        offset = self.clock.running() - self.clock.monotonic()
        jump = offset - self._offset
        self._offset = offset
        return jump if jump > self.threshold else None
