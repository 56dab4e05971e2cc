"""``python -m bench scale --quick`` runs end to end (generate -> one-process converters ->
upload into a real SeaweedFS -> Ray reading s3:// with 2 workers, where a private network
namespace can be made), so the benchmark does not rot between the runs that produce
docs/scale.md's figures. Its figures are not checked here, only that every stage did all its
work: a benchmark that silently dropped items would report fake throughput."""
from __future__ import annotations

import pytest

from bench import bench_scale
from bench.scale_inputs import SMALL

pytestmark = pytest.mark.slow


def test_scale_bench_quick_runs_every_stage():
    result = bench_scale.measure(quick=True, workers=(2,))   # one Ray start: ~15 s of this test
    stages = result["stages"]
    # one bundle per editor session and one per desktop recording, all confirmed by the store
    assert stages["upload -> bucket"]["bundles"] == SMALL.sessions + SMALL.desktop_sessions
    assert result["bucket_bytes"] == stages["upload -> bucket"]["bytes"] > 0
    assert stages["idm prepare, one process"]["segments"] == SMALL.segments
    assert stages["dataset, one process"]["rows"] > 0
    for stage in stages.values():
        assert stage["wall_s"] > 0 and stage["cpu_s"] > 0
    text = bench_scale.table(result).render()
    assert "upload -> bucket" in text and "one process (today)" in text
    if isinstance(result["ray"], dict):
        assert set(result["ray"]) == {"ray start, 2 workers", "dataset, 2 workers", "idm prepare, 2 workers"}
        for kind in ("dataset", "idm prepare"):
            assert isinstance(result["ray"][f"{kind}, 2 workers"], dict), result["ray"]   # else: its error
            assert result["ray"][f"{kind}, 2 workers"]["rows"] == stages[f"{kind}, one process"]["rows"], kind
    else:
        assert "not measured" in text


def test_table_without_ray_says_not_measured():
    stage = {"wall_s": 1.0, "cpu_s": 0.5}
    result = {"shape": {"sessions": 2, "session_hours": 0.02, "segments": 1, "segment_seconds": 10.0,
                        "size": [320, 240], "video_fps": 10},
              "stages": {"upload -> bucket": {**stage, "bundles": 3, "bytes": 1024},
                         "dataset, one process": {**stage, "rows": 5},
                         "idm prepare, one process": {**stage, "rows": 2, "segments": 1}},
              "input_bytes": {"editor": 1, "desktop": 1}, "bucket_bytes": 1024,
              "ray": "not measured: no private network namespace", "isolated": False}
    text = bench_scale.table(result).render()
    assert text.count("not measured") >= 3 and "no private network namespace" in text
