"""Pixels travel as uint8 (a quarter of float32 through the loaders' shared memory) and are
normalised on the device to exactly what the image processor would have produced."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


def test_uint8_patches_normalise_to_the_processor_values():
    from PIL import Image

    from crowd.idm.encode import Processing, collate, encode_example, model_inputs
    from crowd.idm.tiny import build_image_processor, build_tokenizer

    ip = build_image_processor(max_pixels=128 * 96)
    ip.image_mean, ip.image_std = [0.48, 0.46, 0.41], [0.27, 0.26, 0.28]   # per-channel, like CLIP's
    proc = Processing(build_tokenizer(), ip)
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (96, 128, 3), dtype=np.uint8) for _ in range(3)]
    ex = encode_example(proc, frames, [], 5.0)
    assert ex["pixel_values"].dtype == np.uint8
    expected = np.asarray(ip([Image.fromarray(f) for f in frames], return_tensors="np")["pixel_values"])
    got = model_inputs(collate([ex], 0, 5), proc, "cpu")["pixel_values"]
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)
