"""--attn-implementation: "auto" is FlashAttention 2 only where flash_attn and a GPU exist, SDPA
otherwise; a named implementation reaches the loaded model."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


def test_auto_picks_sdpa_without_flash_attn_or_a_gpu():
    import importlib.util

    from crowd.idm.modeling import attention_implementation

    expected = "flash_attention_2" if (torch.cuda.is_available() and importlib.util.find_spec("flash_attn")) else "sdpa"
    assert attention_implementation("auto") == expected
    assert attention_implementation("eager") == "eager"


def test_the_named_implementation_reaches_the_model(tiny_model):
    from crowd.idm.modeling import load_base

    assert load_base(tiny_model, attn="eager").config._attn_implementation == "eager"
    assert load_base(tiny_model).config._attn_implementation == "sdpa"
