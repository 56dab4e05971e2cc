"""Short version of bench/bench_idm.py: the CPU-scale recipe (crowd.idm.experiment: a full
fine-tune of the tiny Qwen3-VL on fresh "marks" clips, 64x64 pixels, about half empty) must
really read the frames: the answer loss with each clip's own frames clearly below the loss with
another clip's frames (equal losses mean the frames are ignored). The earlier version's "reads
the frames" assertion passed only because static clips read back as one frame (issue 18).

The CI run is the bench's recipe at a quarter of its length, on the types learnt first (idle,
clicks, scrolls, moves; keys, the slowest, are left to the bench). Measured for CI_PLAN (200
steps of 8, 708 train clips, 48 val clips) with seeds 11, 12, 13: own/other answer loss
0.181/1.158, 0.149/0.927, 0.132/1.025 (ratios 0.16, 0.16, 0.13); the assertion asks for below
0.5. Click F1 above the best frame-blind answer is not asserted: at this length it held for two
seeds (0.95 vs 0.17, 0.71 vs 0.17) and not the third (0.00 vs 0.30); the bench's longer run is
where every type is compared (docs/idm.md)."""
from __future__ import annotations

import numpy as np
import pytest

from crowd.format.desktop import keylog as kl

pytestmark = pytest.mark.slow

# The CI run: 76 s on the 2-core machine when lightly loaded, ~5 minutes with 6 engineers' work on
# it (synth 6 s, prepare 45 s, training 236-261 s, eval 11-27 s).
CI_PLAN = dict(sessions=16, steps=200, eval_limit=24, loader_workers=0, val_fraction=0.25,
               weights={"idle": 27, "click": 3, "scroll": 3, "move": 2})


def test_cpu_model_reads_the_frames(tmp_path):
    from crowd.idm.experiment import Plan, run_synthetic

    x = run_synthetic(tmp_path, Plan(**CI_PLAN))
    model, empty, blind = x.result["model"], x.result["baseline_empty"], x.result["baseline_blind"]
    assert empty["overall"]["f1"] == 0.0
    assert set(blind) == {"KeyPress", "MouseClick", "MouseMove", "MouseScroll"}
    assert blind["MouseClick"]["f1"] > 0          # a fixed answer already scores: the real bar
    # Frame dependence: someone else's frames must cost the model; equal losses = frames ignored.
    assert x.loss_own_frames < 0.5 * x.loss_other_frames, (x.loss_own_frames, x.loss_other_frames)
    assert x.last_loss < 0.1 * x.first_loss
    assert model["overall"]["tp"] + model["overall"]["fn"] > 0
    held_out = {line.split('"session": "')[1][:36] for line in (tmp_path / "clips" / "val.jsonl").read_text().splitlines()}
    trained_on = {line.split('"session": "')[1][:36] for line in (tmp_path / "clips" / "train.jsonl").read_text().splitlines()}
    assert held_out and not held_out & trained_on


def test_marks_scene_shows_each_action_in_its_quadrant_on_the_next_frame(tmp_path):
    """The recipe's visual scale, through the real files: H.264 at the clip rate, prepare's
    resize to 64x64. An action at t belongs to frame floor(5 t) and fills its quadrant on the
    frame after, and only there."""
    from crowd.idm.options import PrepareOptions
    from crowd.idm.prepare import load_clips, prepare
    from crowd.idm.frames import read_clip
    from crowd.idm.synth import write_segment

    script = [(0.45, kl.MousePress("Left")), (0.5, kl.MouseRelease("Left")),
              (0.85, kl.KeyPress(38, "KeyA")), (0.9, kl.KeyRelease(38, "KeyA")),
              (1.25, kl.MouseScroll(0, -2, 64.0, 64.0)),
              (1.65, kl.MouseMove(20.0, 10.0))]
    (tmp_path / "rec").mkdir()
    write_segment(tmp_path / "rec", "00000000-0000-4000-8000-000000000001", 0, script, 2.0, size=(128, 128),
                  video_fps=5, scene="marks")
    prepare(tmp_path / "rec", tmp_path / "clips", PrepareOptions(max_pixels=64 * 64, val_fraction=0.0, keep_empty=1.0,
                                                                 workers=1, window=10, stride=10))
    (rec,) = load_clips(tmp_path / "clips", "train")
    assert sorted((a["frame"], a["type"]) for a in rec["actions"]) == [
        (2, "MouseClick"), (4, "KeyPress"), (6, "MouseScroll"), (8, "MouseMove")]
    frames = read_clip(tmp_path / "clips" / rec["clip"], rec["fps"], rec["n_frames"])
    assert frames[0].shape == (64, 64, 3)
    quadrant = {"MouseClick": (0, 0), "KeyPress": (0, 1), "MouseScroll": (1, 0), "MouseMove": (1, 1)}
    grey = np.array([150, 150, 150])

    def changed(frame: np.ndarray, q: tuple[int, int]) -> bool:
        part = frame[q[0] * 32:(q[0] + 1) * 32, q[1] * 32:(q[1] + 1) * 32].reshape(-1, 3).astype(int)
        return float(np.abs(part - grey).sum(axis=1).mean()) > 60

    for a in rec["actions"]:
        shown = [i for i, f in enumerate(frames) if changed(f, quadrant[a["type"]])]
        assert shown == [a["frame"] + 1], (a, shown)


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
