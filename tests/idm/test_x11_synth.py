"""The real path: xdotool drives a Tk app on Xvfb, desktop-capture's Recorder writes the
crowd-cast files, and prepare turns them into clips whose actions are the scripted ones."""
from __future__ import annotations

import random

import pytest

from crowd.format.desktop import keylog as kl
from crowd.format.desktop import layout
from crowd.capture.virtual_display import missing_tools
from crowd.idm.actions import extract_actions, geometry_of
from crowd.idm.options import PrepareOptions
from crowd.idm.prepare import load_clips, prepare

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _has_tk() -> bool:
    try:
        import tkinter  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(bool(missing_tools()), reason=f"needs {missing_tools()} (scripts/setup.sh installs them)")
@pytest.mark.skipif(not _has_tk(), reason="the synthetic X app needs tkinter, which this Python was built without")
def test_recorded_xdotool_session_becomes_clips_with_the_scripted_actions(tmp_path):
    from crowd.capture.virtual_display import VirtualDisplay
    from crowd.idm.synth_x11 import record_session

    rec_dir = tmp_path / "rec"
    with VirtualDisplay(320, 240) as vd:
        session = record_session(vd, rec_dir, random.Random(4), actions=10, fps=10.0)
    segments = layout.list_segments(rec_dir)
    assert [s.session_id for s in segments] == [session.session_id] and segments[0].complete

    entries = kl.read_keylog(segments[0].keylog, strict=True)
    per_frame = extract_actions(entries, 5.0, geometry_of(entries, (320, 240)))
    got = [a for f in sorted(per_frame) for a in per_frame[f]]
    want_keys = [d for k, d in session.inputs if k == "key"]
    assert [a.details for a in got if a.type == "KeyPress"] == want_keys
    assert sum(a.type == "MouseClick" for a in got) == sum(k == "click" for k, _ in session.inputs)
    scrolls = [a.scroll() for a in got if a.type == "MouseScroll"]
    want_scrolls = [1 if b == "4" else -1 for k, b in session.inputs if k == "scroll"]
    assert [1 if s > 0 else -1 for s in scrolls] == want_scrolls   # wheel up (button 4) is positive
    moves = sum(k == "move" for k, _ in session.inputs)
    assert sum(a.type == "MouseMove" for a in got) >= moves

    out = tmp_path / "clips"
    result = prepare(rec_dir, out, PrepareOptions(window=5, stride=5, val_fraction=0.0, keep_empty=1.0,
                                                  max_pixels=128 * 96, workers=1))
    assert result.segments == 1 and result.black_frames == 0
    clips = load_clips(out, "train")
    covered = {c["start_frame"] + i for c in clips for i in range(c["n_frames"])}
    # the segment's tail window is aligned to its end and overlaps the clip before it: each
    # frame's actions are taken from the first clip that covers it
    from_clips, done = [], -1
    for c in sorted(clips, key=lambda c: c["start_frame"]):
        from_clips += [(c["start_frame"] + a["frame"], a["type"], a["details"]) for a in c["actions"]
                       if c["start_frame"] + a["frame"] > done]
        done = c["start_frame"] + c["n_frames"] - 1
    from_clips.sort()
    expected = sorted((a.frame, a.type, a.details) for a in got if a.frame in covered)
    assert from_clips == expected and len(from_clips) >= len(want_keys)
