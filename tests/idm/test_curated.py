"""Hand-curated evaluation clips with visibility classes import into a split that eval scores
(not_predictable reported, not scored); a bad manifest is refused whole, with every problem named."""
from __future__ import annotations

import json

import pytest

from crowd.cli import main
from crowd.idm import synth
from crowd.idm.evaluate import evaluate
from crowd.idm.frames import read_clip
from crowd.idm.prepare import load_clips

SESSION = "7a0c1e2f-3b4d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rec")
    v, _ = synth.write_segment(folder, SESSION, 0, [], seconds=6.0)
    return v


def test_curated_clips_import_and_are_scored_by_visibility(video, tmp_path):
    manifest = tmp_path / "curated.jsonl"
    acts = [{"frame": 4, "type": "MouseClick", "details": "Left", "visibility": "visible"},
            {"frame": 9, "type": "KeyPress", "details": "Ctrl+S", "visibility": "not_predictable"},
            {"frame": 12, "type": "KeyPress", "details": "A", "visibility": "inferable"}]
    manifest.write_text(json.dumps({"video": str(video), "start": 1.0, "frames": 25, "id": "c1", "actions": acts}) + "\n"
                        + json.dumps({"video": str(video), "frames": 10, "actions": []}) + "\n")
    assert main(["idm", "import-curated", str(manifest), str(tmp_path / "out"), "--max-pixels", str(128 * 96)]) == 0
    clips = load_clips(tmp_path / "out", "val")
    assert [(c["clip"], c["n_frames"], c["start_frame"]) for c in clips] == [("val/c1.webp", 25, 5),
                                                                            ("val/curated_00002.webp", 10, 0)]
    assert len(read_clip(tmp_path / "out" / clips[0]["clip"], 5.0, 25)) == 25
    result = evaluate(None, tmp_path / "out")
    vis = result["baseline_empty"]["visibility"]
    assert vis == {"inferable": {"total": 1, "found": 0}, "not_predictable": {"total": 1, "found": 0},
                   "visible": {"total": 1, "found": 0}}
    assert result["baseline_empty"]["KeyPress"]["fn"] == 1   # the not_predictable key is not scored


def test_a_bad_manifest_names_every_problem_and_writes_nothing(video, tmp_path, capsys):
    manifest = tmp_path / "bad.jsonl"
    manifest.write_text("\n".join([
        json.dumps({"video": str(video), "actions": [{"frame": 30, "type": "MouseClick", "details": "Left"}]}),
        "{not json",
        json.dumps({"video": "missing.mp4"}),
        json.dumps({"video": str(video), "actions": [{"frame": 1, "type": "Tap", "details": "x"},
                                                      {"frame": 1, "type": "KeyPress", "details": "A",
                                                       "visibility": "maybe"}]}),
    ]) + "\n")
    assert main(["idm", "import-curated", str(manifest), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    for needle in ("bad.jsonl:1: action 0: frame must be an integer in 0..24", "bad.jsonl:2: not JSON",
                   "bad.jsonl:3: video", "bad.jsonl:4: action 0: type must be", "bad.jsonl:4: action 1: visibility"):
        assert needle in err
    assert not (tmp_path / "out").exists()
