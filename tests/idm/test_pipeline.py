"""End to end on CPU with a tiny, randomly initialised Qwen3-VL built offline:
prepare -> train (loss falls) -> checkpoint/resume -> reload -> eval -> label -> merge,
all through the `crowd` command line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crowd.format.desktop import keylog as kl
from crowd.format.desktop import layout
from crowd.cli import main

from tests.idm.conftest import SMALL_PIXELS

pytestmark = pytest.mark.slow


def _train_args(model: Path, data: Path, out: Path, steps: int) -> list[str]:
    return ["idm", "train", "--model", str(model), "--data", str(data), "--out", str(out), "--steps", str(steps),
            "--lr", "3e-3", "--warmup", "2", "--decay", "4", "--batch-size", "2", "--log-every", "1",
            "--save-every", "6", "--max-pixels", str(SMALL_PIXELS), "--loader-workers", "0",
            "--lora-r", "16", "--lora-alpha", "32", "--lora-dropout", "0"]


@pytest.fixture(scope="module")
def trained(tiny_model, prepared, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    assert main(_train_args(tiny_model, prepared, out, 18)) == 0
    return out


def _log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]


def test_training_lowers_the_loss_and_writes_a_loadable_adapter(trained, tiny_model):
    log = _log(trained)
    assert [r["step"] for r in log] == list(range(1, 19))
    first, last = sum(r["loss"] for r in log[:3]) / 3, sum(r["loss"] for r in log[-3:]) / 3
    assert last < 0.8 * first, (first, last)
    assert log[-1]["lr"] == pytest.approx(3e-3 * 0.1)   # WSD ends at 10% of the peak
    info = json.loads((trained / "crowd_idm_train.json").read_text())
    assert info["base_model"] == str(tiny_model) and info["window"] == 10 and info["fps"] == 5.0
    cfg = json.loads((trained / "adapter_config.json").read_text())
    targets = cfg["target_modules"]
    assert "visual" in targets and "language_model" in targets and cfg["r"] == 16
    assert sorted(p.name for p in (trained / "checkpoints").iterdir()) == ["step_000012", "step_000018"]


def test_resume_continues_from_the_latest_checkpoint(trained, tiny_model, prepared, tmp_path):
    import shutil

    import torch
    from safetensors.torch import load_file

    out = tmp_path / "resumed"
    shutil.copytree(trained, out)
    assert main(_train_args(tiny_model, prepared, out, 20)) == 0
    steps = [r["step"] for r in _log(out)]
    assert steps[-2:] == [19, 20] and steps.count(19) == 1      # continued at 19, not from scratch
    before = load_file(str(trained / "adapter_model.safetensors"))
    after = load_file(str(out / "adapter_model.safetensors"))
    assert before.keys() == after.keys() and any(not torch.equal(before[k], after[k]) for k in before)


def test_eval_label_and_merge_from_the_saved_adapter(trained, prepared, recordings, tmp_path, capsys):
    import torch

    result_path = tmp_path / "eval.json"
    assert main(["idm", "eval", str(trained), str(prepared), "--json", str(result_path), "--max-new-tokens", "40",
                 "--predictions", str(tmp_path / "preds.jsonl")]) == 0
    table = capsys.readouterr().out
    assert "| MouseMove |" in table and "F1 (always [])" in table
    result = json.loads(result_path.read_text())
    n_val = len((prepared / "val.jsonl").read_text().splitlines())
    assert result["clips"] == n_val > 0
    assert result["model"]["overall"]["tp"] + result["model"]["overall"]["fn"] > 0
    preds = [json.loads(line) for line in (tmp_path / "preds.jsonl").read_text().splitlines()]
    assert all(2 <= a["frame"] < 22 for p in preds for a in p["pred"] + p["true"])

    video = layout.list_segments(recordings)[0].video
    keylog = tmp_path / "labelled.msgpack"
    assert main(["idm", "label", str(trained), str(video), "--out", str(keylog), "--max-new-tokens", "40"]) == 0
    entries = kl.read_keylog(keylog, strict=True)
    assert isinstance(entries[0].event, kl.Metadata) and entries[0].event.source_width == 320
    assert all(a.t_us <= b.t_us for a, b in zip(entries, entries[1:]))
    assert "actions ->" in capsys.readouterr().out

    merged = tmp_path / "merged"
    assert main(["idm", "merge", str(trained), str(merged)]) == 0
    from crowd.idm.inference import load_predictor

    a, m = load_predictor(trained), load_predictor(merged)
    assert (a.fps, a.window, a.max_pixels) == (m.fps, m.window, m.max_pixels)
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    with torch.no_grad():
        assert torch.allclose(a.model(input_ids=ids).logits, m.model(input_ids=ids).logits, atol=1e-4)


def test_bad_inputs_give_clear_errors(tmp_path, capsys, trained):
    assert main(["idm", "prepare", str(tmp_path / "nothing"), str(tmp_path / "o")]) == 1
    assert "no such recordings folder" in capsys.readouterr().err
    assert main(["idm", "merge", str(tmp_path), str(tmp_path / "m")]) == 1
    assert "adapter_config.json" in capsys.readouterr().err
    assert main(["idm", "label", str(trained), str(tmp_path / "missing.mp4")]) == 1
    assert "no such video" in capsys.readouterr().err
