"""sample_video converts only the decoded frames it keeps, and keeps exactly the frames that
converting every decoded frame (the previous code, bench/bench_idm_prepare.py's baseline) gives."""
from __future__ import annotations

import random

import numpy as np

from crowd.idm import synth
from crowd.idm.frames import sample_video


def test_sampling_a_30fps_video_at_5fps_matches_converting_every_frame(tmp_path):
    from bench.bench_idm_prepare import sample_every_frame

    size = (320, 240)
    script = synth.make_script(random.Random(2), 3.0, size)
    video, _ = synth.write_segment(tmp_path, "00000000-0000-4000-8000-000000000002", 0, script, 3.0, size, video_fps=30)
    now = list(sample_video(video, 5.0, 128 * 96))
    before = list(sample_every_frame(video, 5.0, 128 * 96))
    assert [i for i, _ in now] == [i for i, _ in before] == list(range(15))
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(now, before))
