"""Loss-only logits give the model's own loss (and gradients) while the output head runs on the
answer positions alone."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


def test_answer_loss_equals_the_full_logits_loss(tiny_model):
    from crowd.idm.encode import collate, encode_example, load_processing, model_inputs
    from crowd.idm.loss import answer_loss, answer_positions
    from crowd.idm.modeling import load_base
    from crowd.idm.prompt import Action

    proc = load_processing(tiny_model)
    model = load_base(tiny_model)
    rng = np.random.default_rng(0)
    frames = lambda n: [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in range(n)]  # noqa: E731
    b = model_inputs(collate([encode_example(proc, frames(4), [Action(1, "MouseClick", "Left"), Action(3, "KeyPress", "A")], 5.0),
                 encode_example(proc, frames(3), [], 5.0)], proc.tokenizer.pad_token_id, model.config.image_token_id), proc, "cpu")
    full = model(**b).loss
    full.backward()
    g_full = model.lm_head.weight.grad.clone()
    model.zero_grad()
    mine = answer_loss(model, b)
    mine.backward()
    assert float(mine.detach()) == pytest.approx(float(full.detach()), rel=1e-5)
    assert torch.allclose(model.lm_head.weight.grad, g_full, atol=1e-6)
    n_labelled = int((b["labels"] != -100).sum())
    assert n_labelled <= len(answer_positions(b["labels"])) * 2 < b["input_ids"].shape[1]
