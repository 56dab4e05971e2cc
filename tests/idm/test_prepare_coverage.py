"""Issue 15, IDM clips: every frame with content belongs to some clip (the tail of a segment
that does not fill a window gets a window aligned to its end), and a truncated keylog is
warned about and marked instead of silently labelling its clips `[]`."""
from __future__ import annotations

import logging

from crowd.format.desktop import keylog as kl
from crowd.format.desktop import layout
from crowd.idm import synth
from crowd.idm.options import PrepareOptions
from crowd.idm.prepare import load_clips, prepare

from tests.idm.conftest import SMALL_PIXELS

SESSION = "5e1f0c3a-8d2b-4c6e-9f10-2a3b4c5d6e7f"


def _opts(**kw) -> PrepareOptions:
    base = dict(max_pixels=SMALL_PIXELS, window=10, stride=10, val_fraction=0.0, keep_empty=1.0, workers=1)
    base.update(kw)
    return PrepareOptions(**base)


def _keys(times: list[float]) -> list[tuple[float, object]]:
    out: list[tuple[float, object]] = []
    for k, t in enumerate(times):
        name = synth.KEYS[k % len(synth.KEYS)]
        out += [(t, kl.KeyPress(38 + k, name)), (t + 0.05, kl.KeyRelease(38 + k, name))]
    return out


def test_the_tail_of_a_segment_gets_a_window_aligned_to_its_end(tmp_path):
    rec = tmp_path / "rec"
    rec.mkdir()
    # 19 frames at 5 fps; 6 key presses, 4 of them in frames 10..18
    times = [0.5, 1.3, 2.1, 2.5, 2.9, 3.5]
    synth.write_segment(rec, SESSION, 0, _keys(times), seconds=3.8)
    prepare(rec, tmp_path / "clips", _opts())
    clips = load_clips(tmp_path / "clips", "train")
    assert [(c["start_frame"], c["n_frames"]) for c in clips] == [(0, 10), (9, 10)]
    seen = {c["start_frame"] + a["frame"] for c in clips for a in c["actions"]}
    assert seen == {int(t * 5) for t in times}


def test_a_run_shorter_than_a_window_becomes_one_short_clip(tmp_path):
    rec = tmp_path / "rec"
    rec.mkdir()
    synth.write_segment(rec, SESSION, 0, _keys([0.3, 1.1]), seconds=1.4)   # 7 frames
    prepare(rec, tmp_path / "clips", _opts())
    clips = load_clips(tmp_path / "clips", "train")
    assert [(c["start_frame"], c["n_frames"], len(c["actions"])) for c in clips] == [(0, 7, 2)]


def test_a_truncated_keylog_is_warned_about_marked_and_not_read_as_idle(tmp_path, caplog):
    rec = tmp_path / "rec"
    rec.mkdir()
    times = [0.5, 1.3, 2.5, 4.5, 6.5]
    _, keylog = synth.write_segment(rec, SESSION, 0, _keys(times), seconds=8.0)   # 40 frames, 4 clips
    data = keylog.read_bytes()
    keylog.write_bytes(data[: len(data) - 60])   # a killed recorder: the last entries are torn off
    entries = kl.read_keylog(keylog)
    assert 0 < len(entries) < len(kl.loads(data))
    with caplog.at_level(logging.WARNING, logger="crowd.idm.prepare"):
        result = prepare(rec, tmp_path / "clips", _opts())
    assert any("truncated" in r.getMessage() for r in caplog.records)
    assert result.truncated_keylogs == [f"{SESSION} seg0"] and result.clips_past_truncation > 0
    clips = load_clips(tmp_path / "clips", "train")
    assert clips and all(c["keylog_truncated"] for c in clips)
    last = max(e.frame(5.0) for e in entries)
    assert all(c["start_frame"] + c["n_frames"] - 1 <= last for c in clips)
    assert layout.list_segments(rec)[0].complete
