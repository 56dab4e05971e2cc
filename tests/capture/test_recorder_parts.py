"""The recorder's parts on their own, without X: input gate, frame holdback, black-frame guard,
segment timeline (idle pause, suspend during a pause, rotation) and the tray colour rule."""
from __future__ import annotations

from pathlib import Path

from crowd.capture.clock import Clock
from crowd.capture.frames import BlackFrameGuard, FrameHoldback, Grabbed, Verdict
from crowd.capture.gate import InputGate
from crowd.capture.input import RawInput
from crowd.capture.segments import Step, Timeline
from crowd.capture.status import tray_colour
from crowd.format.desktop import keylog as kl


class _ManualClock(Clock):
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def running(self) -> float:
        return self.now


def test_gate_records_only_allowed_and_releases_on_leaving() -> None:
    gate = InputGate()
    assert gate.accept(RawInput("key_press", 1.0), (38, "KeyA"), (0, 0)) is None   # UNKNOWN focus
    assert gate.switch("App") is not None and gate.captured
    assert gate.accept(RawInput("key_press", 2.0), (38, "KeyA"), (0, 0)) == kl.KeyPress(38, "KeyA")
    assert gate.accept(RawInput("click", 2.1, x=110, y=60, button="Left", pressed=True), None,
                       (100, 50)) == kl.MousePress("Left", 10.0, 10.0)
    assert gate.last_input == 2.1
    assert gate.switch("App") is None
    switch = gate.switch(kl.UNCAPTURED)
    assert switch is not None and switch.left_capture
    assert switch.events == [kl.KeyRelease(38, "KeyA"), kl.MouseRelease("Left", 0.0, 0.0),
                             kl.ContextChanged(kl.UNCAPTURED)]
    assert not gate.held_keys and not gate.held_buttons


def test_gate_move_delta_counts_moves_made_outside() -> None:
    gate = InputGate()
    gate.accept(RawInput("move", 1.0, x=10, y=10), None, (0, 0))     # not recorded, but remembered
    gate.switch("App")
    assert gate.accept(RawInput("move", 2.0, x=13, y=6), None, (0, 0)) == kl.MouseMove(3.0, -4.0)


def test_holdback_blanks_frames_just_before_a_switch_away() -> None:
    sent: list[tuple[int, object, bool]] = []
    hb = FrameHoldback(0.1, 10.0, lambda slot, pic, black: sent.append((slot, pic, black)))
    assert hb.keep == 1
    hb.add(Grabbed(0, 0.0, "a", False))
    hb.add(Grabbed(1, 0.1, "b", False))
    hb.release()
    assert sent == [(0, "a", False)]
    hb.block_at(0.15)
    hb.add(Grabbed(2, 0.2, "c", False))
    hb.release(everything=True)
    assert sent[1:] == [(1, None, True), (2, "c", False)]


def test_black_guard_trips_after_its_interval_and_clears_on_content() -> None:
    guard = BlackFrameGuard(seconds=1.0, active_seconds=5.0)
    assert guard.check(10.0, 9.0, True, True) is Verdict.NONE
    assert guard.check(10.5, 9.0, True, True) is Verdict.NONE
    assert guard.check(11.0, 9.0, True, True) is Verdict.TRIPPED and guard.alert
    assert guard.check(11.5, 9.0, True, True) is Verdict.NONE         # next try a full interval later
    assert guard.check(11.6, 9.0, True, False) is Verdict.CLEARED and not guard.alert
    assert guard.check(30.0, 9.0, True, True) is Verdict.NONE         # idle user: a dark screen is fine
    assert guard.since is None


def test_timeline_pause_resume_and_suspend_in_pause(tmp_path: Path) -> None:
    clock = _ManualClock()
    tl = Timeline(clock, tmp_path, fps=10.0, segment_seconds=5.0, idle_seconds=2.0, session_id="s")
    first = tl.open_next()
    assert tl.plan(clock.now, suspended=False, last_input=clock.now).step is Step.NEXT_SLOT
    tl.slot = 7
    clock.now += 2.0
    assert tl.plan(clock.now, suspended=False, last_input=98.0).step is Step.PAUSE
    tl.pause(clock.now)
    assert tl.plan(clock.now, suspended=False, last_input=98.0).step is Step.PAUSED
    assert tl.plan(clock.now, suspended=True, last_input=98.0).step is Step.SUSPEND_NOTED
    clock.now += 30.0
    assert tl.resume(clock.now) is True          # the suspend asks for a new segment now
    assert tl.vt() - first.start_vt == 2.0      # the pause is not on the video clock
    second = tl.open_next()
    assert (second.index, tl.slot) == (1, -1)   # the new segment's slots start again
    assert tl.plan(clock.now, suspended=False, last_input=clock.now).wait == 0.0   # slot 0: due at once
    clock.now += 5.0
    assert tl.plan(clock.now, suspended=False, last_input=clock.now).step is Step.NEW_SEGMENT
    for live in (first, second):
        live.keylog.close()


def test_tray_colour_rule() -> None:
    assert tray_colour("recording", "App", True, False) == ("green", "recording App")
    assert tray_colour("recording", "App", False, False)[0] == "orange"
    assert tray_colour("recording", "App", True, True) == ("orange", "black frames: capture restarting")
    assert tray_colour("recording", kl.UNCAPTURED, True, False) == ("orange", f"blocked ({kl.UNCAPTURED})")
    assert tray_colour("paused", "App", True, False) == ("grey", "paused")
