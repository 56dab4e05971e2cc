"""The sharded layout through the command line, without Ray (``--ray off`` runs the very task
function Ray runs, in this process): rows equal the single-process layout's, the dataset card
is what ``datasets.load_dataset`` reads, and bad input is refused before anything is written."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from crowd.serializer.synthetic import write_recording

CROWD = str(Path(sys.executable).parent / "crowd")


def crowd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CROWD, *args], capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("recs")
    return [str(write_recording(root / f"s{i}", hours=0.01, seed=40 + i)) for i in range(3)]


def test_dataset_shards_equal_the_single_layout_and_load(recordings, tmp_path, monkeypatch):
    single, sharded = tmp_path / "single", tmp_path / "sharded"
    assert crowd("dataset", *recordings, "-o", str(single), "--kind", "trajectories", "--val-fraction", "0.5").returncode == 0
    done = crowd("dataset", *recordings, "-o", str(sharded), "--kind", "trajectories", "--val-fraction", "0.5", "--ray", "off")
    assert done.returncode == 0, done.stderr
    total = 0
    for split in ("train", "validation"):
        want = sorted(json.dumps(r, sort_keys=True) for r in pq.read_table(single / "trajectories" / f"{split}.parquet").to_pylist())
        got = sorted(json.dumps(r, sort_keys=True) for f in (sharded / "trajectories" / split).glob("*.parquet")
                     for r in pq.read_table(f).to_pylist())
        assert want == got
        total += len(got)
    assert total
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets

    loaded = datasets.load_dataset(str(sharded), "trajectories")
    rows = json.loads((sharded / "metadata.json").read_text())["datasets"]["trajectories"]["rows"]
    assert {s: len(d) for s, d in loaded.items()} == {s: n for s, n in rows.items() if n}   # empty splits left out


def test_bad_input_is_refused_with_nothing_written(recordings, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    done = crowd("dataset", *recordings, "-o", str(out), "--ray", "off")
    assert done.returncode == 1 and "not empty" in done.stderr
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CROWD_S3"))}
    done = crowd("dataset", "s3://crowd/bundles", "-o", str(tmp_path / "new"), "--ray", "off", env=env)
    assert done.returncode == 1 and "needs an endpoint" in done.stderr
    assert not (tmp_path / "new").exists()
    done = crowd("dataset", str(tmp_path / "missing"), "-o", str(tmp_path / "new"), "--ray", "off")
    assert done.returncode == 1 and "no such recording" in done.stderr
    assert not (tmp_path / "new").exists()


def test_an_unreadable_session_is_reported_and_the_others_converted(recordings, tmp_path):
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("not a recording")
    out = tmp_path / "out"
    done = crowd("dataset", recordings[0], str(junk), "-o", str(out), "--kind", "trajectories", "--ray", "off")
    assert done.returncode == 0, done.stderr
    assert "junk: skipped, unreadable" in done.stderr and "1 sessions" in done.stdout
    meta = json.loads((out / "metadata.json").read_text())
    assert [s["session_id"] for s in meta["sessions"]] != [] and len(meta["sessions"]) == 1
    assert any("junk" in p for p in meta["problems"])


def test_prepare_shards_equal_single_process(tmp_path):
    from crowd.idm.synth import generate

    generate(tmp_path / "rec", sessions=2, segments=1, seconds=6, seed=5)
    args = ["--max-pixels", str(128 * 96), "--workers", "1", "--val-fraction", "0.5"]
    assert crowd("idm", "prepare", str(tmp_path / "rec"), str(tmp_path / "single"), *args).returncode == 0
    done = crowd("idm", "prepare", str(tmp_path / "rec"), str(tmp_path / "sharded"), *args, "--ray", "off")
    assert done.returncode == 0, done.stderr
    for name in ("train.jsonl", "val.jsonl", "prepare.json"):
        assert (tmp_path / "sharded" / name).read_bytes() == (tmp_path / "single" / name).read_bytes()
    card = (tmp_path / "sharded" / "README.md").read_text()
    assert card.startswith("---\n") and "config_name: clips" in card and "actions_json" in card
