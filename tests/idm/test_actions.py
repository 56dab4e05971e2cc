"""Keylog -> per-frame actions: modifier coalescing, held keys, mouse sums and normalisation."""
from __future__ import annotations

import pytest

from crowd.format.desktop import keylog as kl
from crowd.idm.actions import Geometry, extract_actions, key_label

FPS = 5.0
GEO = Geometry(1000, 500, "linux")


def at(frame: float) -> int:
    """Microseconds inside the given frame (frame 2.5 -> middle of frame 2)."""
    return int(frame * 1e6 / FPS)


def flat(per_frame):
    return sorted((a.frame, a.type, a.details) for acts in per_frame.values() for a in acts)


def test_modifiers_fold_into_the_key_in_fixed_order_and_never_appear_alone():
    entries = [
        kl.Entry(at(1.1), kl.KeyPress(50, "ShiftLeft")), kl.Entry(at(1.2), kl.KeyPress(133, "MetaLeft")),
        kl.Entry(at(1.3), kl.KeyPress(33, "KeyP")), kl.Entry(at(1.4), kl.KeyRelease(33, "KeyP")),
        kl.Entry(at(1.5), kl.KeyRelease(133, "MetaLeft")), kl.Entry(at(1.6), kl.KeyRelease(50, "ShiftLeft")),
        kl.Entry(at(3.1), kl.KeyPress(37, "ControlLeft")), kl.Entry(at(3.5), kl.KeyRelease(37, "ControlLeft")),
        kl.Entry(at(4.1), kl.KeyPress(64, "Alt")), kl.Entry(at(4.2), kl.KeyPress(37, "ControlRight")),
        kl.Entry(at(4.3), kl.KeyPress(11, "Digit5")), kl.Entry(at(4.4), kl.KeyRelease(11, "Digit5")),
        kl.Entry(at(4.5), kl.KeyRelease(64, "Alt")), kl.Entry(at(4.6), kl.KeyRelease(37, "ControlRight")),
        kl.Entry(at(5.0), kl.KeyPress(50, "ShiftLeft")), kl.Entry(at(5.1), kl.KeyPress(62, "ShiftRight")),
        kl.Entry(at(5.2), kl.KeyRelease(50, "ShiftLeft")),    # ShiftRight still down
        kl.Entry(at(5.3), kl.KeyPress(38, "KeyA")), kl.Entry(at(5.4), kl.KeyRelease(62, "ShiftRight")),
        kl.Entry(at(6.2), kl.KeyPress(36, "Return")),
    ]
    assert flat(extract_actions(entries, FPS, GEO)) == [
        (1, "KeyPress", "Cmd+Shift+P"), (4, "KeyPress", "Ctrl+Alt+5"), (5, "KeyPress", "Shift+A"),
        (6, "KeyPress", "Return")]


def test_key_labels():
    assert [key_label(n) for n in ("KeyA", "Digit0", "F1", "UpArrow", "Backspace")] == ["A", "0", "F1", "UpArrow", "Backspace"]


def _held_backspace():
    # pressed in frame 1, OS auto-repeat presses in frames 3 (twice) and 4, released in frame 6
    return [kl.Entry(at(1.1), kl.KeyPress(22, "Backspace")), kl.Entry(at(3.1), kl.KeyPress(22, "Backspace")),
            kl.Entry(at(3.6), kl.KeyPress(22, "Backspace")), kl.Entry(at(4.1), kl.KeyPress(22, "Backspace")),
            kl.Entry(at(6.1), kl.KeyRelease(22, "Backspace"))]


@pytest.mark.parametrize("held, frames", [
    ("events", [1, 3, 4]),          # default: each delivered press, repeats at most once per frame
    ("once", [1]),                  # only the initial press
    ("frames", [1, 2, 3, 4, 5]),  # the reference: every frame while held; up in frame 6, not repeated there
])
def test_held_key_repetition_modes(held, frames):
    got = flat(extract_actions(_held_backspace(), FPS, GEO, n_frames=10, held=held))
    assert got == [(f, "KeyPress", "Backspace") for f in frames]


def test_held_frames_repeats_a_key_still_down_through_the_last_frame():
    entries = [kl.Entry(at(7.1), kl.KeyPress(22, "Backspace"))]
    got = flat(extract_actions(entries, FPS, GEO, n_frames=10, held="frames"))
    assert got == [(f, "KeyPress", "Backspace") for f in (7, 8, 9)]


def test_two_real_presses_in_one_frame_both_count():
    entries = [kl.Entry(at(2.1), kl.KeyPress(46, "KeyL")), kl.Entry(at(2.3), kl.KeyRelease(46, "KeyL")),
               kl.Entry(at(2.5), kl.KeyPress(46, "KeyL")), kl.Entry(at(2.7), kl.KeyRelease(46, "KeyL"))]
    assert flat(extract_actions(entries, FPS, GEO)) == [(2, "KeyPress", "L"), (2, "KeyPress", "L")]


def test_mouse_moves_sum_per_frame_and_normalise_by_source_size():
    entries = [kl.Entry(at(0.1), kl.MouseMove(100.0, 10.0)), kl.Entry(at(0.5), kl.MouseMove(150.0, -60.0)),
               kl.Entry(at(2.2), kl.MouseMove(-2000.0, 0.0)),   # clipped to -1000
               kl.Entry(at(3.2), kl.MouseMove(0.2, -0.2))]      # rounds to 0,0: no action
    assert flat(extract_actions(entries, FPS, GEO)) == [(0, "MouseMove", "250,-100"), (2, "MouseMove", "-1000,0")]


def test_scroll_is_coalesced_per_frame_and_normalised():
    entries = [kl.Entry(at(1.1), kl.MouseScroll(0, -1, 5.0, 5.0)), kl.Entry(at(1.4), kl.MouseScroll(0, -2, 5.0, 5.0)),
               kl.Entry(at(2.1), kl.MouseScroll(0, 1, 5.0, 5.0)), kl.Entry(at(2.2), kl.MouseScroll(0, -1, 5.0, 5.0))]
    # 3 steps * 50 px on a 500 px high source = 300 on the 1000 scale; frame 2 cancels out
    assert flat(extract_actions(entries, FPS, GEO)) == [(1, "MouseScroll", "-300")]


def test_clicks_and_uncaptured_releases_held_modifiers():
    entries = [kl.Entry(at(0.2), kl.MousePress("Right")), kl.Entry(at(0.3), kl.MouseRelease("Right")),
               kl.Entry(at(1.0), kl.KeyPress(50, "ShiftLeft")),
               kl.Entry(at(1.5), kl.ContextChanged(kl.UNCAPTURED)),   # the Shift release is never delivered
               kl.Entry(at(3.0), kl.ContextChanged("code")),
               kl.Entry(at(3.5), kl.KeyPress(38, "KeyA"))]
    assert flat(extract_actions(entries, FPS, GEO)) == [(0, "MouseClick", "Right"), (3, "KeyPress", "A")]


def test_geometry_comes_from_metadata():
    from crowd.idm.actions import geometry_of

    meta = kl.Metadata(3840, 2160, 1.77, 1920, 1080, 1.77, 2560, 1440, 1.77, "2026-01-01T00:00:00Z", None, [], "macos", "display")
    g = geometry_of([kl.Entry(0, meta)], (640, 480))
    assert (g.width, g.height, g.platform) == (2560, 1440, "macos")
    assert (geometry_of([], (640, 480)).width, geometry_of([], (640, 480)).height) == (640, 480)


def test_unknown_held_mode_is_a_clear_error():
    with pytest.raises(ValueError, match="held must be one of"):
        extract_actions([], FPS, GEO, held="sometimes")
