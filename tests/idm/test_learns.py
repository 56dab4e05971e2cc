"""Short version of bench/bench_idm.py: a tiny Qwen3-VL trained for a couple of minutes on CPU
on synthetic clips beats the always-[] baseline on clips of held-out sessions."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_tiny_model_beats_the_empty_baseline_on_held_out_sessions(tmp_path):
    """The full pipeline (rendered recordings -> prepare -> train -> windowed eval) on a narrow
    synthetic mix (idle and clicks) that a CPU minute of training can learn; the full mix is
    the benchmark's job (bench/bench_idm.py)."""
    from crowd.idm.experiment import run_synthetic

    x = run_synthetic(tmp_path, sessions=8, seconds=40, steps=160, eval_limit=16, loader_workers=0,
                      weights={"idle": 5, "click": 1})
    model, base = x.result["model"], x.result["baseline_empty"]
    assert x.last_loss < 0.5 * x.first_loss
    assert base["overall"]["f1"] == 0.0 and base["MouseClick"]["fn"] > 0
    assert model["MouseClick"]["tp"] > 0 and model["MouseClick"]["f1"] > base["MouseClick"]["f1"]
    print(x.result["model"]["MouseClick"], x.loss_own_frames, x.loss_other_frames)
    assert x.loss_own_frames < x.loss_other_frames  # it reads the frames, not only a prior
    held_out = {line.split('"session": "')[1][:36] for line in (tmp_path / "clips" / "val.jsonl").read_text().splitlines()}
    trained_on = {line.split('"session": "')[1][:36] for line in (tmp_path / "clips" / "train.jsonl").read_text().splitlines()}
    assert held_out and not held_out & trained_on


def test_training_makes_predictions_depend_on_the_frames(tiny_model):
    """Images really flow through training and generation: on a task only the frames can
    answer (a button turns red after a click, or stays blue), the trained model answers
    differently for the two kinds of clips."""
    import random

    import numpy as np
    import torch

    from crowd.idm.encode import collate, encode_example, load_processing, model_inputs
    from crowd.idm.inference import Predictor
    from crowd.idm.modeling import add_lora, load_base
    from crowd.idm.prompt import Action

    torch.manual_seed(0)
    rng = random.Random(0)
    proc = load_processing(tiny_model)
    base = load_base(tiny_model)
    model = add_lora(base, r=32, alpha=64, dropout=0.0)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)

    def clip(click: bool, k: int = 3) -> list[np.ndarray]:
        frames = [np.full((96, 128, 3), (200, 205, 215), np.uint8) for _ in range(10)]
        if click:
            for f in frames[k + 1:]:
                f[30:60, 64:120] = (230, 60, 40)
        return frames

    for _ in range(120):
        batch = []
        for _ in range(4):
            click, k = rng.random() < 0.5, rng.randint(1, 7)
            batch.append(encode_example(proc, clip(click, k), [Action(k, "MouseClick", "Left")] if click else [], 5.0))
        loss = model(**model_inputs(collate(batch, proc.tokenizer.pad_token_id, base.config.image_token_id), proc, "cpu")).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    pred = Predictor(model, proc, max_new_tokens=40)
    with_click, without = pred.predict_windows([clip(True, 4), clip(False)])
    assert without == []
    assert [(a.type, a.details) for a in with_click] == [("MouseClick", "Left")]
