"""``crowd idm prepare`` on a real two-node Ray cluster (namespace.py), reading desktop
bundles from a real S3 store, with a Ray worker SIGKILLed mid-job: the clip index files are
byte-identical to the single-process ``prepare``'s and so is every clip; the Parquet shards
hold the same records, once each."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from crowd.idm.options import PrepareOptions
from crowd.idm.prepare import prepare
from tests.scale.namespace import run_driver

OPTIONS = {"max_pixels": 128 * 96, "workers": 1, "val_fraction": 0.34}


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from crowd.idm.synth import generate

    out = tmp_path_factory.mktemp("desktop")
    generate(out, sessions=3, segments=2, seconds=8, seed=3)
    return out


@pytest.mark.slow
def test_prepare_from_s3_with_a_worker_killed_equals_single_process(recordings, tmp_path):
    single = tmp_path / "single"
    expected = prepare(recordings, single, PrepareOptions(**OPTIONS))
    out = tmp_path / "out"
    report = run_driver({"job": "prepare", "workdir": str(tmp_path), "out": str(out), "s3": True, "kill": True,
                         "sources": [str(recordings)], "options": OPTIONS}, tmp_path)
    assert report["nodes"] == 2
    assert report["killed"], "no Ray worker was running a task to kill"
    assert report["clips"] == expected.clips
    for name in ("train.jsonl", "val.jsonl"):
        assert (out / name).read_bytes() == (single / name).read_bytes(), name
    clips = sorted(p.relative_to(single) for p in single.rglob("*.webp"))
    assert clips and clips == sorted(p.relative_to(out) for p in out.rglob("*.webp"))
    assert all((out / c).read_bytes() == (single / c).read_bytes() for c in clips)
    for split in ("train", "val"):
        want = sorted(json.dumps(json.loads(line), sort_keys=True)
                      for line in (single / f"{split}.jsonl").read_text().splitlines())
        rows = [r for f in sorted((out / "clips" / split).glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
        got = sorted(json.dumps({**{k: v for k, v in r.items() if k != "actions_json"},
                                 "actions": json.loads(r["actions_json"])}, sort_keys=True) for r in rows)
        assert len(got) == len(set(got)), "duplicate clip records"
        assert got == want
