"""Training options beyond the LoRA recipe: a full fine-tune (--lora-r 0, the CPU-scale model)
with periodic validation writes validation losses into the log, and its output loads for
inference like a model folder."""
from __future__ import annotations

import json

import pytest

from crowd.cli import main

from tests.idm.conftest import SMALL_PIXELS

pytestmark = pytest.mark.slow


def test_full_finetune_with_periodic_validation(tiny_model, prepared, tmp_path):
    from crowd.idm.inference import load_predictor

    out = tmp_path / "full"
    args = ["idm", "train", "--model", str(tiny_model), "--data", str(prepared), "--out", str(out), "--steps", "4",
            "--lr", "1e-3", "--warmup", "1", "--decay", "1", "--batch-size", "2", "--log-every", "1",
            "--save-every", "0", "--max-pixels", str(SMALL_PIXELS), "--loader-workers", "0", "--lora-r", "0",
            "--val-every", "2", "--val-limit", "2", "--no-gradient-checkpointing"]
    assert main(args) == 0
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    vals = [r for r in log if "val_loss" in r]
    assert [r["step"] for r in vals] == [2, 4] and all(r["val_clips"] == 2 and r["val_loss"] > 0 for r in vals)
    steps = [r for r in log if "loss" in r]
    assert all(r["model_tflops_per_s"] > 0 for r in steps)
    assert not (out / "adapter_config.json").exists() and (out / "model.safetensors").exists()
    pred = load_predictor(out, max_new_tokens=8)
    assert pred.window == 10 and all(p.requires_grad for p in pred.model.parameters())
