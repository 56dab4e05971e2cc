"""Slots missed before a segment's first picture repeat that picture, never a black lead-in."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _levels(path: Path) -> list[tuple[float, int]]:
    import av

    with av.open(str(path)) as c:
        return [(round(float(f.time), 2), int(f.to_ndarray(format="gray").mean())) for f in c.decode(video=0)]


def test_a_late_first_picture_fills_the_slots_before_it(tmp_path: Path) -> None:
    from crowd.capture.encoder import SegmentEncoder, VideoSettings

    enc = SegmentEncoder(tmp_path / "v.mp4", 64, 48, VideoSettings(fps=10))
    assert enc.write(np.full((48, 64, 4), 150, np.uint8), 2) == 2   # the first grab landed in slot 2
    enc.close()
    frames = _levels(tmp_path / "v.mp4")
    assert [t for t, _ in frames] == [0.0, 0.1, 0.2]
    assert all(abs(v - frames[2][1]) <= 3 for _, v in frames) and frames[0][1] > 100


def test_a_late_black_first_frame_keeps_its_lead_in_black(tmp_path: Path) -> None:
    from crowd.capture.encoder import SegmentEncoder, VideoSettings

    enc = SegmentEncoder(tmp_path / "v.mp4", 64, 48, VideoSettings(fps=10))
    assert enc.write(None, 2) == 2          # focus was not on an allowed app: black stays black
    assert enc.write(np.full((48, 64, 4), 150, np.uint8), 3) == 0
    enc.close()
    levels = [v for _, v in _levels(tmp_path / "v.mp4")]
    assert len(levels) == 4 and max(levels[:3]) < 20 and levels[3] > 100
