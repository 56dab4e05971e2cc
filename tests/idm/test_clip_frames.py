"""Clip files keep every frame: libwebp folds identical consecutive frames, and a clip whose
frames are all identical (a still screen) is written as a plain still image without duration;
the frame count stored in the file brings the length back."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.idm.frames import read_clip, write_clip


def _frame(value: int) -> np.ndarray:
    f = np.full((32, 64, 3), value, np.uint8)
    f[0, 0] = (value * 7) % 256  # not uniform, like a screen
    return f


@pytest.mark.parametrize("n", [10, 25])
def test_a_static_clip_reads_back_with_all_its_frames(tmp_path, n):
    path = tmp_path / "still.webp"
    write_clip(path, [_frame(100)] * n, 5.0)
    frames = read_clip(path, 5.0)
    assert len(frames) == n
    assert all(np.array_equal(f, _frame(100)) for f in frames)


def test_a_clip_written_before_the_count_was_stored_is_padded_from_the_index(tmp_path):
    from PIL import Image

    path = tmp_path / "old.webp"
    img = Image.fromarray(_frame(50))
    img.save(path, format="WEBP", save_all=True, append_images=[img] * 9, lossless=True, duration=200)
    assert len(read_clip(path, 5.0)) == 1   # what the old files give without the index's count
    assert len(read_clip(path, 5.0, n_frames=10)) == 10


def test_a_count_that_disagrees_with_the_index_is_an_error(tmp_path):
    path = tmp_path / "c.webp"
    write_clip(path, [_frame(1), _frame(2)], 5.0)
    with pytest.raises(ValueError, match="clip index says 3"):
        read_clip(path, 5.0, n_frames=3)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=12))
def test_any_pattern_of_repeated_frames_reads_back_exactly(tmp_path_factory, values):
    path = tmp_path_factory.mktemp("clip") / "c.webp"
    frames = [_frame(40 * v) for v in values]
    write_clip(path, frames, 5.0)
    back = read_clip(path, 5.0)
    assert len(back) == len(frames)
    assert all(np.array_equal(a, b) for a, b in zip(back, frames))
