"""label's keylog writer: predicted actions -> crowd-cast entries that replay to the same actions."""
from __future__ import annotations

from crowd.format.desktop import keylog as kl
from crowd.idm.actions import Geometry, extract_actions
from crowd.idm.label import actions_to_entries, default_output, key_name
from crowd.idm.prompt import Action

from pathlib import Path


def test_entries_round_trip_through_prepare_extraction(tmp_path):
    actions = [Action(1, "KeyPress", "Cmd+Shift+P"), Action(1, "MouseMove", "250,-100"),
               Action(3, "MouseClick", "Right"), Action(4, "MouseScroll", "-300"), Action(6, "KeyPress", "5"),
               Action(7, "KeyPress", "Return")]
    entries = actions_to_entries(actions, fps=5.0, size=(1000, 500))
    path = tmp_path / "k.msgpack"
    kl.write_keylog(path, entries)
    back = kl.read_keylog(path, strict=True)
    assert isinstance(back[0].event, kl.Metadata) and back[0].event.source_width == 1000
    got = extract_actions(back, 5.0, Geometry(1000, 500, "linux"))
    flat = sorted((a.frame, a.type, a.details) for acts in got.values() for a in acts)
    assert flat == sorted((a.frame, a.type, a.details) for a in actions)
    names = [e.event.name for e in back if isinstance(e.event, kl.KeyPress)]
    assert names[:3] == ["MetaLeft", "ShiftLeft", "KeyP"]


def test_key_names_and_default_output():
    assert [key_name(k) for k in ("a", "Z", "7", "F5", "Return")] == ["KeyA", "KeyZ", "Digit7", "F5", "Return"]
    rec = Path("/x/recording_0b7f6a52-5d0c-4f3e-9a51-6f4c2f1e9d01_seg0003.mp4")
    assert default_output(rec).name == "input_0b7f6a52-5d0c-4f3e-9a51-6f4c2f1e9d01_seg0003.msgpack"
    assert default_output(Path("/x/screen.mp4")).name == "screen.input.msgpack"


def test_labelled_keylog_replays_with_crowd_cast_overlay(tmp_path):
    """The written keylog is what `crowd cast overlay` replays (desktop-capture's renderer)."""
    from crowd.capture.overlay import render_overlay
    from crowd.idm import synth

    video, _ = synth.write_segment(tmp_path, "0b7f6a52-5d0c-4f3e-9a51-6f4c2f1e9d01", 0, [], seconds=3)
    actions = [Action(2, "KeyPress", "Ctrl+S"), Action(5, "MouseClick", "Left"), Action(7, "MouseMove", "100,50"),
               Action(9, "MouseScroll", "-200")]
    keylog = tmp_path / "labelled.msgpack"
    kl.write_keylog(keylog, actions_to_entries(actions, fps=5.0, size=(320, 240)))
    stats = render_overlay(video, keylog, tmp_path / "overlay.mp4")
    assert stats.frames == 30 and stats.events_drawn >= 4
    assert (tmp_path / "overlay.mp4").stat().st_size > 0
