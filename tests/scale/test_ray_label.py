"""``crowd idm label`` as batch inference on a real two-node Ray cluster (namespace.py): a
model actor (one per GPU; here, with no GPU, one on a CPU) loads the tiny model once and
labels every video; each keylog is byte-identical to the single-video command's."""
from __future__ import annotations

import pytest

from tests.scale.namespace import run_driver

SMALL_PIXELS = 128 * 96


@pytest.mark.slow
def test_label_actors_write_the_single_process_keylogs(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")   # as a Ray worker with one CPU runs torch
    import torch

    from crowd.idm.inference import load_predictor
    from crowd.idm.label import default_output, label_video
    from crowd.idm.synth import generate
    from crowd.idm.tiny import build_tiny_model

    torch.set_num_threads(1)
    model = build_tiny_model(tmp_path / "model", max_pixels=SMALL_PIXELS)
    generate(tmp_path / "rec", sessions=2, segments=1, seconds=3, seed=8)
    videos = sorted((tmp_path / "rec").glob("recording_*.mp4"))
    predictor = load_predictor(model, max_new_tokens=16)
    single = tmp_path / "single"
    single.mkdir()
    for video in videos:
        label_video(predictor, video, single / default_output(video).name)
    out = tmp_path / "out"
    report = run_driver({"job": "label", "workdir": str(tmp_path), "out": str(out), "model": str(model),
                         "sources": [str(tmp_path / "rec")]}, tmp_path)
    assert report["nodes"] == 2 and not report["failed"]
    assert sorted(report["keylogs"]) == sorted(p.name for p in single.iterdir())
    for keylog in single.iterdir():
        assert (out / keylog.name).read_bytes() == keylog.read_bytes(), keylog.name
    assert (out / "README.md").exists()
