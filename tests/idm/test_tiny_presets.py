"""The 2b preset has Qwen3-VL-2B's shape: rotary split [24, 20, 20] (time, height, width) and
tied embeddings; untied, the MFU counted 311M parameters that the real model does not have.
Built on the meta device: nothing is allocated."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


def test_2b_preset_matches_the_released_shape():
    from transformers import Qwen3VLForConditionalGeneration

    from crowd.idm.tiny import build_config, build_tokenizer

    config = build_config("2b", build_tokenizer())
    assert config.text_config.rope_parameters["mrope_section"] == [24, 20, 20]
    with torch.device("meta"):
        model = Qwen3VLForConditionalGeneration._from_config(config)
    assert model.lm_head.weight is model.model.language_model.embed_tokens.weight
    n = sum(p.numel() for p in model.parameters())
    assert 2.10e9 < n < 2.15e9   # 2,127.5M; the released bf16 safetensors hold ~4.26 GB


def test_rotary_sections_cover_half_the_head():
    from crowd.idm.tiny import mrope_sections

    for head_dim in (32, 64, 128):
        assert sum(mrope_sections(head_dim)) == head_dim // 2
