"""The clip index loader processes share: an Arrow file opened with a memory map, holding the
same records as the .jsonl, and pickled (to spawn a loader worker) as its path alone."""
from __future__ import annotations

import pickle

from crowd.idm.clip_index import ClipIndex, index_path, write_index
from crowd.idm.prepare import load_clips


def _records(n: int) -> list[dict]:
    return [{"clip": f"train/c{i}.webp", "session": "s", "segment": 0, "start_frame": 10 * i, "n_frames": 10,
             "fps": 5.0, "width": 128, "height": 96, "source_width": 320, "source_height": 240,
             "actions": [{"frame": 2, "type": "MouseClick", "details": "Left"}] if i % 2 else [],
             **({"keylog_truncated": True} if i == 3 else {})} for i in range(n)]


def test_index_rows_equal_the_records_and_pickle_as_a_path(tmp_path):
    recs = _records(5000)
    write_index(recs, index_path(tmp_path, "train"))
    idx = ClipIndex(tmp_path, "train")
    assert len(idx) == 5000 and idx[3] == recs[3] and idx[4999] == recs[4999]
    blob = pickle.dumps(idx)
    assert len(blob) < 1000   # the records stay in the file, not in every worker's memory
    assert pickle.loads(blob)[1] == recs[1]


def test_a_folder_without_an_index_gets_one_from_its_jsonl(prepared, tmp_path):
    import shutil

    data = tmp_path / "old"
    shutil.copytree(prepared, data)
    index_path(data, "train").unlink()
    idx = ClipIndex(data, "train")
    assert [idx[i] for i in range(len(idx))] == load_clips(data, "train")


def test_eval_limit_spreads_over_the_split(tmp_path):
    import pytest

    from crowd.idm.evaluate import pick_clips

    write_index(_records(100), index_path(tmp_path, "val"))
    assert [r["start_frame"] for r in pick_clips(tmp_path, "val", 4)] == [0, 250, 500, 750]
    assert len(pick_clips(tmp_path, "val", None)) == 100 == len(pick_clips(tmp_path, "val", 500))
    with pytest.raises(ValueError, match="positive"):
        pick_clips(tmp_path, "val", 0)
