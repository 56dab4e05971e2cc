"""prepare: clips from crowd-cast recordings (real H.264 + msgpack files written by the generator)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from crowd.format.desktop import keylog as kl
from crowd.format.desktop import layout
from crowd.idm import synth
from crowd.idm.frames import fit_size, is_black, read_clip, sample_video
from crowd.idm.options import PrepareOptions
from crowd.idm.prepare import load_clips, prepare, split_sessions

from tests.idm.conftest import SMALL_PIXELS

SESSION = "0b7f6a52-5d0c-4f3e-9a51-6f4c2f1e9d01"


@pytest.fixture(scope="module")
def multi(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("multi")
    synth.generate(out, sessions=4, segments=2, seconds=6, seed=11)
    return out


def _opts(**kw) -> PrepareOptions:
    base = dict(max_pixels=SMALL_PIXELS, window=5, stride=5, val_window=10, val_stride=10, val_fraction=0.5,
                keep_empty=1.0, workers=1)
    base.update(kw)
    return PrepareOptions(**base)


def test_black_frames_are_removed_with_their_events(tmp_path):
    rec = tmp_path / "rec"
    rec.mkdir()
    script = [(0.5, kl.KeyPress(38, "KeyA")), (0.55, kl.KeyRelease(38, "KeyA")),
              (2.0, kl.ContextChanged(kl.UNCAPTURED)),
              (2.5, kl.KeyPress(56, "KeyB")), (2.55, kl.KeyRelease(56, "KeyB")),   # on a black frame
              (3.0, kl.ContextChanged("synthetic.desktop")),
              (3.5, kl.KeyPress(54, "KeyC")), (3.55, kl.KeyRelease(54, "KeyC"))]
    synth.write_segment(rec, SESSION, 0, script, seconds=8)
    r = prepare(rec, tmp_path / "clips", _opts(val_fraction=0.0))
    assert r.black_frames == 5 and r.frames == 40
    clips = load_clips(tmp_path / "clips", "train")
    # frames 10..14 (2.0 s .. 2.8 s) are black: runs 0-9 and 15-39 give 2 + 5 clips of 5 frames
    assert [c["start_frame"] for c in clips] == [0, 5, 15, 20, 25, 30, 35]
    keys = [(c["start_frame"] + a["frame"], a["details"]) for c in clips for a in c["actions"] if a["type"] == "KeyPress"]
    assert keys == [(2, "A"), (17, "C")]
    for c in clips:
        assert not any(is_black(f) for f in read_clip(tmp_path / "clips" / c["clip"], c["fps"]))


def test_clip_frames_are_stored_losslessly(tmp_path, multi):
    prepare(multi, tmp_path / "c", _opts(val_fraction=0.0))
    clip = load_clips(tmp_path / "c", "train")[0]
    seg = next(s for s in layout.list_segments(multi) if s.session_id == clip["session"] and s.index == clip["segment"])
    sampled = [f for i, f in sample_video(seg.video, clip["fps"], SMALL_PIXELS)
               if clip["start_frame"] <= i < clip["start_frame"] + clip["n_frames"]]
    stored = read_clip(tmp_path / "c" / clip["clip"], clip["fps"])
    assert len(stored) == clip["n_frames"] == 5
    assert all(np.array_equal(a, b) for a, b in zip(stored, sampled))
    assert (clip["width"], clip["height"]) == fit_size(320, 240, SMALL_PIXELS) == (128, 96)


def test_split_is_by_session_and_deterministic_across_worker_counts(tmp_path, multi):
    a = prepare(multi, tmp_path / "a", _opts(workers=1, keep_empty=0.3, seed=5))
    b = prepare(multi, tmp_path / "b", _opts(workers=2, keep_empty=0.3, seed=5))
    assert a.clips == b.clips
    for split in ("train", "val"):
        ta, tb = (tmp_path / "a" / f"{split}.jsonl").read_text(), (tmp_path / "b" / f"{split}.jsonl").read_text()
        assert ta == tb
        for c in load_clips(tmp_path / "a", split):
            assert (tmp_path / "a" / c["clip"]).read_bytes() == (tmp_path / "b" / c["clip"]).read_bytes()
    train = {c["session"] for c in load_clips(tmp_path / "a", "train")}
    val = {c["session"] for c in load_clips(tmp_path / "a", "val")}
    assert train and val and not train & val
    # both segments of every session land in the same split
    sessions = json.loads((tmp_path / "a" / "prepare.json").read_text())["sessions"]
    assert len(sessions) == 4 and sorted(sessions.values()).count("val") == 2
    # val clips follow the evaluation format (val_window frames), train clips the training window
    assert {c["n_frames"] for c in load_clips(tmp_path / "a", "val")} == {10}
    assert {c["n_frames"] for c in load_clips(tmp_path / "a", "train")} == {5}
    # another seed gives another (still session-level) assignment or subsample
    c = prepare(multi, tmp_path / "c", _opts(workers=1, keep_empty=0.3, seed=6))
    assert (tmp_path / "c" / "train.jsonl").read_text() != (tmp_path / "a" / "train.jsonl").read_text() or c.clips != a.clips


def test_empty_clips_are_subsampled(tmp_path, multi):
    keep_all = prepare(multi, tmp_path / "all", _opts(keep_empty=1.0, val_fraction=0.0))
    keep_none = prepare(multi, tmp_path / "none", _opts(keep_empty=0.0, val_fraction=0.0))
    clips_all = load_clips(tmp_path / "all", "train")
    empties = sum(1 for c in clips_all if not c["actions"])
    assert empties > 0 and keep_all.empty_dropped == 0
    assert keep_none.empty_dropped == empties
    assert all(c["actions"] for c in load_clips(tmp_path / "none", "train"))
    assert keep_none.clips["train"] == keep_all.clips["train"] - empties


def test_split_sessions_rules():
    s = [f"s{i}" for i in range(10)]
    got = split_sessions(s, 0.2, seed=0)
    assert sorted(got.values()).count("val") == 2 and split_sessions(s, 0.2, seed=0) == got
    assert list(split_sessions(["x", "y"], 0.01, 0).values()).count("val") == 1   # at least one
    assert set(split_sessions(["x"], 0.5, 0).values()) == {"train"}               # a lone session trains


def test_bad_input_is_reported_and_loses_nothing(tmp_path, multi):
    with pytest.raises(FileNotFoundError, match="no such recordings folder"):
        prepare(tmp_path / "missing", tmp_path / "x", _opts())
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no complete recording segments"):
        prepare(tmp_path / "empty", tmp_path / "x", _opts())
    rec = tmp_path / "rec"
    rec.mkdir()
    for seg in layout.list_segments(multi)[:2]:
        for p in seg.paths():
            (rec / p.name).write_bytes(p.read_bytes())
    broken = layout.list_segments(rec)[1]
    broken.video.write_bytes(b"not a video")
    orphan = rec / layout.keylog_name(SESSION, 0)  # keylog without video
    orphan.write_bytes(kl.dumps([]))
    r = prepare(rec, tmp_path / "out", _opts(val_fraction=0.0))
    assert r.segments == 1 and r.clips["train"] > 0
    assert any("missing video" in s for s in r.skipped)
    assert any(broken.session_id in s and "seg1" in s for s in r.skipped)
    assert broken.video.read_bytes() == b"not a video"  # inputs are never modified
