"""``crowd dataset`` on a real two-node Ray cluster (a private namespace: namespace.py): rows
equal the single-process converters', from a folder or from bundles in a real S3 store, and
a Ray worker SIGKILLed mid-job costs neither rows nor duplicates."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from crowd.serializer.dataset.build import build_datasets
from crowd.serializer.synthetic import write_recording
from tests.scale.namespace import run_driver

KINDS = ("trajectories", "pairs", "next-action", "sed")
SPLITS = ("train", "validation")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("recs")
    return [write_recording(root / f"session-{i:02d}", hours=0.02, seed=100 + i) for i in range(6)]


@pytest.fixture(scope="module")
def single(recordings: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("single")
    build_datasets(recordings, out, kinds=KINDS, val_fraction=0.3)
    return out


def rows_single(out: Path, kind: str, split: str) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in pq.read_table(out / kind / f"{split}.parquet").to_pylist())


def rows_sharded(out: Path, kind: str, split: str) -> list[str]:
    files = sorted((out / kind / split).glob("*.parquet"))
    return sorted(json.dumps(r, sort_keys=True) for f in files for r in pq.read_table(f).to_pylist())


def assert_same_rows(single: Path, sharded: Path) -> None:
    for kind in KINDS:
        for split in SPLITS:
            a, b = rows_single(single, kind, split), rows_sharded(sharded, kind, split)
            assert len(b) == len(set(b)), f"{kind}/{split}: duplicate rows"
            assert a == b, f"{kind}/{split}: {len(a)} rows single-process, {len(b)} on Ray"
    assert not list(sharded.rglob(".*.tmp-*")), "a killed task's temporary file was left"


@pytest.mark.slow
def test_worker_killed_mid_job_loses_and_doubles_nothing(recordings, single, tmp_path):
    out = tmp_path / "out"
    report = run_driver({"job": "dataset", "workdir": str(tmp_path), "out": str(out), "kill": True,
                         "sources": [str(r) for r in recordings], "val_fraction": 0.3}, tmp_path)
    assert report["nodes"] == 2
    assert report["killed"], "no Ray worker was running a task to kill"
    assert_same_rows(single, out)
    meta = json.loads((out / "metadata.json").read_text())
    assert sorted(s["session_id"] for s in meta["sessions"]) == sorted(
        s["session_id"] for s in json.loads((single / "metadata.json").read_text())["sessions"])


@pytest.mark.slow
def test_cli_on_s3_bundles_gives_the_same_rows(recordings, single, tmp_path):
    """``crowd dataset s3://... --ray ADDRESS``: sessions gathered from two bundles each."""
    out = tmp_path / "out"
    report = run_driver({"job": "dataset", "workdir": str(tmp_path), "out": str(out), "s3": True, "cli": True,
                         "sources": [str(r) for r in recordings], "val_fraction": 0.3}, tmp_path)
    assert report["nodes"] == 2
    assert "6 sessions" in report["stdout"]
    assert_same_rows(single, out)


@pytest.mark.slow
def test_cli_default_starts_a_local_ray(recordings, single, tmp_path):
    """``--ray local`` (what s3:// inputs get by default): crowd starts and stops a Ray of its own."""
    out = tmp_path / "out"
    report = run_driver({"job": "dataset", "workdir": str(tmp_path), "out": str(out), "local_ray": True,
                         "sources": [str(r) for r in recordings[:2]]}, tmp_path)
    assert "2 sessions" in report["stdout"]
    got = rows_sharded(out, "trajectories", "train") + rows_sharded(out, "trajectories", "validation")
    ids = {json.loads(r)["session_id"] for r in got}
    assert got and len(got) == len(set(got)) and len(ids) == 2
