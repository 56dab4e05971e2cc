"""The live segment on the video clock: session, rotation, idle pause and suspend.

The video clock is the monotonic clock minus the time spent idle-paused, so input stamped
with it lands on the frame that showed it, across pauses too. A segment ends when it holds
``segment_seconds`` of video time or when the machine was suspended (a segment never
stretches across the gap); a suspend noticed while paused ends the segment on resume, since
nothing is written while paused. Idle: no recorded input for ``idle_seconds`` pauses.

:class:`Timeline` only decides and keeps the numbers; the recorder performs the steps (it
owns the keylog writes and the encoder queue). Not thread-safe: the recorder calls it under
its lock from the capture and input threads.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from crowd.capture.clock import Clock
from crowd.capture.grab import ScreenGrabber
from crowd.format.desktop import keylog as kl
from crowd.format.desktop.layout import Segment, segment_paths

PAUSED_RECHECK_S = 0.25   # how often a paused capture thread looks again (suspends, stop)


@dataclass
class LiveSegment:
    """The segment being written: shared by the capture, input and encoder threads."""
    session_id: str
    index: int
    start_vt: float
    folder: Path
    video: Path
    keylog: kl.KeylogWriter

    def closed(self) -> Segment:
        """The finished segment as the folder layout lists it (no video if none was written)."""
        return Segment(self.session_id, self.index, self.folder,
                       self.video if self.video.exists() else None, self.keylog.path)


class Step(enum.Enum):
    """What the capture thread does next."""
    NEXT_SLOT = "next_slot"          # grab the next frame slot once ``wait`` has passed
    PAUSED = "paused"                # idle-paused: look again after ``wait``
    NEW_SEGMENT = "new_segment"      # close the live segment and open the next
    PAUSE = "pause"                  # idle: stop writing frames until input comes
    SUSPEND_NOTED = "suspend_noted"  # suspended while paused: new segment on resume


@dataclass(frozen=True)
class Plan:
    step: Step
    wait: float = 0.0
    suspended: bool = False


@dataclass
class Timeline:
    """The video clock, the session and its live segment."""
    clock: Clock
    folder: Path
    fps: float
    segment_seconds: float
    idle_seconds: float
    session_id: str | None = None
    index: int = -1                  # index of the live (or last) segment
    live: LiveSegment | None = None
    slot: int = -1                   # last frame slot captured in the live segment
    origin_shift: float = 0.0        # idle time taken out of the video clock
    paused: bool = False
    paused_at: float = 0.0
    suspended_in_pause: bool = False

    def vt(self, mono: float | None = None) -> float:
        """Video-clock seconds: monotonic minus idle pauses."""
        return (self.clock.monotonic() if mono is None else mono) - self.origin_shift

    def ts_us(self, mono: float | None = None) -> int:
        """Keylog timestamp of a moment in the live segment (0 without one, never negative)."""
        live = self.live
        if live is None:
            return 0
        return max(0, int((self.vt(mono) - live.start_vt) * 1_000_000))

    def open_next(self) -> LiveSegment:
        """Start the next segment of the session now (its keylog is created empty)."""
        assert self.session_id is not None
        self.index += 1
        video, keylog_path = segment_paths(self.folder, self.session_id, self.index)
        self.live = LiveSegment(self.session_id, self.index, self.vt(), self.folder, video,
                                kl.KeylogWriter(keylog_path))
        self.slot = -1
        return self.live

    def close(self) -> LiveSegment | None:
        """End the live segment; returns it (None when there was none)."""
        live, self.live = self.live, None
        return live

    def pause(self, mono: float) -> None:
        self.paused = True
        self.paused_at = mono

    def resume(self, mono: float) -> bool:
        """Continue the video clock where it paused; True when a suspend during the pause
        means the next frames belong in a new segment."""
        self.origin_shift += mono - self.paused_at
        self.paused = False
        rotate, self.suspended_in_pause = self.suspended_in_pause, False
        return rotate

    def plan(self, mono: float, *, suspended: bool, last_input: float) -> Plan:
        """The capture thread's next step at monotonic time ``mono``."""
        if suspended:
            if self.paused:
                self.suspended_in_pause = True
                return Plan(Step.SUSPEND_NOTED, suspended=True)
            return Plan(Step.NEW_SEGMENT, suspended=True)
        if self.paused:
            return Plan(Step.PAUSED, PAUSED_RECHECK_S)
        live = self.live
        assert live is not None
        rel = self.vt(mono) - live.start_vt
        if rel >= self.segment_seconds:
            return Plan(Step.NEW_SEGMENT)
        if mono - last_input >= self.idle_seconds:
            return Plan(Step.PAUSE)
        return Plan(Step.NEXT_SLOT, (self.slot + 1) / self.fps - rel)


def segment_metadata(grabber: ScreenGrabber, out_size: tuple[int, int], platform: str,
                     capture_mode: str) -> kl.Metadata:
    """The Metadata entry every segment starts with: screen, output and source geometry."""
    src_w, src_h = grabber.size
    out_w, out_h = out_size
    screen = grabber.monitors[0] if grabber.monitors else grabber.region
    assert screen is not None and grabber.region is not None
    return kl.Metadata(
        screen.width, screen.height, screen.width / screen.height,
        out_w, out_h, out_w / out_h, src_w, src_h, src_w / src_h,
        datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        grabber.region.as_wire(), [m.as_wire() for m in grabber.monitors[1:]] or [grabber.region.as_wire()],
        platform, capture_mode)
