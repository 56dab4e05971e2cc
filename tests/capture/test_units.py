"""Unit tests on recorded inputs: focus backends of all platforms, key naming, hold, encoder."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from crowd.capture.focus.base import Allowlist, PollingFocusSource
from crowd.capture.focus.macos import MacFocusSource, parse_macos
from crowd.capture.focus.windows import WindowsFocusSource, parse_windows
from crowd.capture.focus.x11 import parse_x11

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "capture"
PARSERS = {"x11": parse_x11, "macos": parse_macos, "windows": parse_windows}
DATA = json.loads((FIXTURES / "focus_samples.json").read_text())


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: f"{c['platform']}-{c['label']}-{c.get('app_id')}")
def test_focus_decisions_on_recorded_samples(case: dict) -> None:
    info = PARSERS[case["platform"]](case["sample"])
    assert (info.app_id if info else None) == case["app_id"]
    assert Allowlist(DATA["allowlist"], own_pid=999).label(info) == case["label"]


def test_polling_backends_fail_closed_and_follow_changes() -> None:
    samples = iter([{"bundle_id": "com.microsoft.VSCode", "pid": 1, "name": "Code"}, None])

    def query():
        value = next(samples, "boom")
        if value == "boom":
            raise OSError("API failed")
        return value

    src = MacFocusSource(query=query)
    assert src.poll_once().app_id == "com.microsoft.VSCode"
    assert src.poll_once() is None
    assert src.poll_once() is None  # an exception is unknown focus, not a crash
    win = WindowsFocusSource(query=lambda: {"hwnd": 5, "pid": 2, "exe": r"C:\x\Code.exe"})
    win.start()
    try:
        assert win.current().app_id == "code.exe" and win.platform == "windows"
    finally:
        win.close()
    assert isinstance(win, PollingFocusSource)


def test_entire_screen_mode_still_excludes_self_and_unknown() -> None:
    from crowd.capture.focus.base import FocusInfo

    a = Allowlist(["*"], own_pid=10)
    assert a.capture_mode == "display"
    assert a.label(FocusInfo("anything", 11)) == "anything"
    assert a.label(FocusInfo("anything", 10)) == "UNCAPTURED"
    assert a.label(None) == "UNKNOWN"
    assert Allowlist([], own_pid=10).label(FocusInfo("x", 11)) == "UNCAPTURED"


def test_key_names_without_x_use_the_us_layout() -> None:
    from tests.capture.pynput_stub import Key, KeyCode  # noqa: F401  (pynput needs a display to import)

    from crowd.capture.keynames import KeyNamer, name_for_char, name_for_keysym

    assert name_for_keysym(ord("a")) == "KeyA" and name_for_keysym(ord("5")) == "Digit5"
    assert name_for_keysym(0xFFE1) == "ShiftLeft" and name_for_keysym(0xFF52) == "UpArrow"
    assert name_for_keysym(0xFFBE) == "F1" and name_for_keysym(0x12345) == "Unknown"
    assert name_for_char("!") == "Digit1" and name_for_char("A") == "KeyA" and name_for_char("?") == "Slash"
    namer = KeyNamer(None)
    assert namer.name(KeyCode("B", 66)) == (66, "KeyB")
    assert namer.name(Key("shift", 65505)) == (65505, "ShiftLeft")
    assert namer.name(Key("enter", 65293)) == (65293, "Return")


def test_hold_hands_over_after_the_hold_and_purges_only_held(tmp_path: Path) -> None:
    from crowd.capture.hold import SegmentHold, purge_recent
    from crowd.format.desktop.layout import list_segments, segment_paths

    now = time.time()
    for i, age in enumerate((900, 100)):
        for p in segment_paths(tmp_path, "33333333-3333-4333-8333-333333333333", i):
            p.write_bytes(b"x")
            os.utime(p, (now - age, now - age))
    ready = []
    hold = SegmentHold(tmp_path, 600, ready.append, now=lambda: now)
    hold.scan()
    assert [s.index for s in ready] == [0] and [s.index for s in hold.held()] == [1]
    deleted = hold.purge()
    assert len(deleted) == 2 and [s.index for s in list_segments(tmp_path)] == [0]
    assert purge_recent(tmp_path, 600, now=now) == []


def test_encoder_repeats_missed_slots_to_keep_frame_k_at_k_over_fps(tmp_path: Path) -> None:
    import av

    from crowd.capture.encoder import SegmentEncoder, VideoSettings, fit_size

    assert fit_size(3840, 2160) == (1920, 1080) and fit_size(1001, 601) == (1000, 600)
    enc = SegmentEncoder(tmp_path / "v.mp4", 64, 48, VideoSettings(fps=10))
    grey = lambda v: np.full((48, 64, 4), v, np.uint8)  # noqa: E731
    assert enc.write(grey(50), 0) == 0
    assert enc.write(grey(150), 3) == 2      # slots 1, 2 repeat the slot-0 picture
    assert enc.write(grey(250), 3) == 0      # a late duplicate for a written slot is ignored
    assert enc.write(None, 4) == 0           # black
    enc.close()
    with av.open(str(tmp_path / "v.mp4")) as c:
        frames = [(round(float(f.time), 2), int(f.to_ndarray(format="gray").mean())) for f in c.decode(video=0)]
    assert [t for t, _ in frames] == [0.0, 0.1, 0.2, 0.3, 0.4]
    levels = [v for _, v in frames]
    assert abs(levels[0] - levels[2]) <= 3 and levels[3] > levels[0] + 50 and levels[4] < 20


def test_settings_round_trip_and_clear_error(tmp_path: Path) -> None:
    from crowd.capture.settings import CastSettings, load_settings, save_settings

    p = tmp_path / "s.json"
    save_settings(CastSettings(apps=["A"], fps=5), p)
    assert load_settings(p).apps == ["A"] and load_settings(p).fps == 5
    p.write_text("{broken")
    with pytest.raises(ValueError, match="crowd cast setup"):
        load_settings(p)
    assert p.read_text() == "{broken"


def test_setup_picker_numbers_names_and_star() -> None:
    from crowd.capture.focus.base import FocusInfo
    from crowd.capture.setup_apps import choose_apps

    apps = [FocusInfo("Code"), FocusInfo("firefox")]
    answers = iter(["7", "2, Zed"])
    said: list[str] = []
    assert choose_apps(apps, ask=lambda _p: next(answers), say=said.append) == ["firefox", "Zed"]
    assert any("no such number: 7" in s for s in said)
    assert choose_apps(apps, ask=lambda _p: "*", say=said.append) == ["*"]
