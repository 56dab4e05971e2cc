"""The MFU numerator (flops.py) equals what torch.utils.flop_counter counts on the tiny model:
forward only, full fine-tune, and LoRA on both towers. Eager attention, because the counter
does not see the CPU SDPA kernel (it would miss the attention FLOPs the formula counts)."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def setup():
    from transformers import Qwen3VLForConditionalGeneration

    from crowd.idm.encode import Processing, collate, encode_example, model_inputs
    from crowd.idm.prompt import Action
    from crowd.idm.tiny import build_config, build_image_processor, build_tokenizer

    tok = build_tokenizer()
    proc = Processing(tok, build_image_processor(max_pixels=128 * 96))
    config = build_config("tiny", tok)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    exs = [encode_example(proc, [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in range(n)],
                          [Action(1, "MouseClick", "Left")], 5.0) for n in (4, 3)]
    raw = collate(exs, tok.pad_token_id, config.image_token_id)
    return config, raw, model_inputs(raw, proc, "cpu"), Qwen3VLForConditionalGeneration


@pytest.mark.parametrize("mode", ["forward", "full", "lora"])
def test_step_flops_match_the_flop_counter(setup, mode):
    from torch.utils.flop_counter import FlopCounterMode

    from crowd.idm.flops import step_flops
    from crowd.idm.loss import answer_loss, answer_positions
    from crowd.idm.modeling import add_lora, use_patch_matmul

    config, raw, batch, cls = setup
    model = cls._from_config(config, dtype=torch.float32, attn_implementation="eager")
    assert use_patch_matmul(model)
    if mode == "lora":
        model = add_lora(model, 8, 16, 0.0)
    with FlopCounterMode(display=False) as counter:
        loss = answer_loss(model, batch)
        if mode != "forward":
            loss.backward()
    width = raw["input_ids"].shape[1]   # the counter sees the padded rows
    logits = len(answer_positions(raw["labels"])) * raw["labels"].shape[0]
    f = step_flops(config, [width] * 2, [tuple(g) for g in raw["image_grid_thw"].tolist()], logits,
                   lora_r=8 if mode == "lora" else 0, full=mode == "full", backward=mode != "forward")
    assert f.total == counter.get_total_flops()
    assert f.vision_linear + f.patch_embed + f.vision_attention > 0.25 * f.total  # what 4N+2N_t per token left out


def test_the_patch_embedding_as_a_matmul_gives_the_convolution_output(setup):
    from crowd.idm.modeling import use_patch_matmul

    config, _, batch, cls = setup
    torch.manual_seed(3)
    model = cls._from_config(config, dtype=torch.float32)
    keys = set(model.state_dict())
    x = batch["pixel_values"][:40]
    with torch.no_grad():
        conv = model.model.visual.patch_embed(x)
        assert use_patch_matmul(model)
        mm = model.model.visual.patch_embed(x)
    assert set(model.state_dict()) == keys   # checkpoints load unchanged
    torch.testing.assert_close(mm, conv, rtol=1e-4, atol=1e-5)
