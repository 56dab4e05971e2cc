"""Shared IDM fixtures: one tiny Qwen3-VL and one synthetic recording set per test session.

Torch runs single-threaded here: on a machine shared with other test processes, OpenMP's
spinning worker threads make a 2-thread step ~20x slower than a 1-thread one.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

SMALL_PIXELS = 128 * 96  # 8x6 patches of 16 px -> 12 LLM tokens per frame


@pytest.fixture(scope="session", autouse=True)
def _single_thread_torch():
    try:
        import torch
    except ImportError:  # the light install: only torch-free tests run
        yield
        return
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from crowd.idm.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", max_pixels=SMALL_PIXELS)


@pytest.fixture(scope="session")
def recordings(tmp_path_factory) -> Path:
    from crowd.idm.synth import generate

    out = tmp_path_factory.mktemp("recordings")
    generate(out, sessions=4, segments=1, seconds=24, seed=3)
    return out


@pytest.fixture(scope="session")
def prepared(recordings, tmp_path_factory) -> Path:
    from crowd.idm.options import PrepareOptions
    from crowd.idm.prepare import prepare

    out = tmp_path_factory.mktemp("clips")
    prepare(recordings, out, PrepareOptions(max_pixels=SMALL_PIXELS, keep_empty=0.3, val_fraction=0.25, workers=1))
    return out
