"""The synthetic learning experiment shared by bench/bench_idm.py and its shorter CI test:
freshly generated recordings -> prepare -> a small random Qwen3-VL trained on CPU -> eval on
held-out sessions, judged by the learning bar below.

The learning bar (issue 18). "Beats always-[]" is too weak: always-[] scores F1 0 by
construction, and a model that only learned the output format and a prior over answers gets
there without reading a frame (the earlier CPU result came from a bug that let clips without
a click be told apart by their frame count). A model reads the frames when
- its answer loss with each clip's own frames is clearly below its loss with another clip's
  frames (`frame_dependence`; equal losses mean the frames are ignored), and
- per action type, its F1 beats the best frame-blind answer (blind.py), not only always-[].

The CPU-scale recipe. The 0.9M-parameter tiny preset with a frozen random output head under
LoRA could not even express the answer's uncertainty, ~290 clips were memorised, and on the
desktop scene (320x240 shrunk to 128x96: a click's button, a typed letter or a pointer step
covers a fraction of one of a frame's 12 tokens) three full fine-tunes of 9-23 CPU-minutes
still scored own-frames loss == other-frames loss. What made it read the frames, cheapest first:
- visual scale: the "marks" scene (synth.render_marks) at 64x64 pixels, 4 tokens a frame, one
  quadrant (= one token) per action type, filled on the frame after the action;
- every rendered frame is a sampled frame (video at the clip rate, 5 fps);
- a full fine-tune (`lora_r 0`: head and embeddings train) at lr 3e-3;
- thousands of fresh clips (training windows at stride 5), about half of them empty.
Measured figures are in docs/idm.md ("Does a CPU-trained model read the frames?").
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

PIXELS = 64 * 64     # 2x2 merged tokens of 32x32 pixels: one per quadrant of the marks scene
# About half the clips empty: idle stretches outweigh the actions (keep_empty 1.0 keeps them all).
HALF_EMPTY = {"idle": 30, "move": 2, "click": 2, "type": 2, "shift": 1, "scroll": 2}
MARGIN = 0.15    # own-frames loss must be at least 15% below other-frames loss


@dataclass
class Plan:
    """One run of the experiment (the bench's and the CI test's differ only in scale)."""

    sessions: int = 40
    seconds: float = 60.0
    steps: int = 500
    batch_size: int = 8
    lr: float = 3e-3
    lora_r: int = 0                 # 0: full fine-tune
    stride: int = 5                 # training windows every 5 frames: more distinct clips
    keep_empty: float = 1.0
    val_fraction: float = 0.15
    pixels: int = PIXELS
    weights: dict[str, float] | None = field(default_factory=lambda: dict(HALF_EMPTY))
    scene: str = "marks"            # synth.render_marks: each action fills one token for a frame
    size: tuple[int, int] = (128, 128)
    video_fps: int = 5              # the clip rate: every rendered frame is a sampled frame
    model: dict = field(default_factory=dict)   # tiny.build_config overrides
    seed: int = 11
    eval_limit: int | None = None
    loader_workers: int = 1


@dataclass
class ExperimentResult:
    result: dict               # evaluate()'s output: model, always-[] and best frame-blind
    train_clips: int
    val_clips: int
    steps: int
    first_loss: float
    last_loss: float
    seconds: dict              # phase -> wall seconds
    log: list
    loss_own_frames: float = float("nan")      # answer loss given the clip's own frames
    loss_other_frames: float = float("nan")    # ... given another clip's frames: equal means frames are ignored


def learning_bar(x: ExperimentResult, margin: float = MARGIN) -> dict[str, bool]:
    """The checks a model that reads frames passes: frame dependence, and per type (with support)
    F1 above the best frame-blind answer's."""
    from crowd.idm.prompt import ACTION_TYPES

    m, blind = x.result["model"], x.result["baseline_blind"]
    out = {"frame dependence": x.loss_own_frames < (1 - margin) * x.loss_other_frames}
    for t in ACTION_TYPES:
        if m[t]["tp"] + m[t]["fn"]:
            out[f"{t} F1 > frame-blind"] = m[t]["f1"] > blind[t]["f1"]
    return out


def frame_dependence(run_dir: str | Path, data_dir: str | Path, n: int = 48) -> tuple[float, float]:
    """Mean answer loss on val clips with their own frames vs with another clip's frames.

    A model that reads the frames does worse on someone else's frames; one that answers from a
    prior over action text scores the same on both. The "other" frames come from the next clip
    whose answer differs, so reading them must hurt.
    """
    import torch

    from crowd.idm.clip_index import ClipIndex
    from crowd.idm.encode import collate, encode_example, model_inputs
    from crowd.idm.frames import read_clip
    from crowd.idm.inference import load_predictor
    from crowd.idm.loss import answer_loss
    from crowd.idm.prepare import clip_actions

    pred = load_predictor(run_dir)
    index = ClipIndex(data_dir, "val")
    records = [index[i * len(index) // min(n, len(index))] for i in range(min(n, len(index)))]
    frames = [read_clip(Path(data_dir) / r["clip"], r["fps"], r["n_frames"])[: pred.window] for r in records]
    answers = [sorted((a.type, a.details) for a in clip_actions(r) if a.frame < pred.window) for r in records]
    own = other = 0.0
    for i, r in enumerate(records):
        j = next((k % len(records) for k in range(i + 1, i + len(records))
                  if answers[k % len(records)] != answers[i] and len(frames[k % len(records)]) == len(frames[i])), i)
        acts = [a for a in clip_actions(r) if a.frame < pred.window]
        for src, which in ((i, "own"), (j, "other")):
            ex = encode_example(pred.proc, frames[src], acts, r["fps"])
            batch = model_inputs(collate([ex], pred.proc.tokenizer.pad_token_id, pred.model.config.image_token_id),
                                 pred.proc, pred.device)
            with torch.no_grad():
                loss = float(answer_loss(pred.model, batch))
            if which == "own":
                own += loss
            else:
                other += loss
    k = max(1, len(records))
    return own / k, other / k


def run_synthetic(work: str | Path, plan: Plan | None = None) -> ExperimentResult:
    from crowd.idm import synth
    from crowd.idm.evaluate import evaluate
    from crowd.idm.inference import load_predictor
    from crowd.idm.options import PrepareOptions, TrainOptions
    from crowd.idm.prepare import prepare
    from crowd.idm.tiny import build_tiny_model
    from crowd.idm.train import train

    p = plan or Plan()
    work = Path(work)
    times = {}
    t0 = time.perf_counter()
    synth.generate(work / "rec", sessions=p.sessions, seconds=p.seconds, seed=p.seed, weights=p.weights,
                   size=p.size, video_fps=p.video_fps, scene=p.scene)
    times["synth"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    prep = prepare(work / "rec", work / "clips", PrepareOptions(
        max_pixels=p.pixels, keep_empty=p.keep_empty, val_fraction=p.val_fraction, workers=2, seed=p.seed,
        stride=p.stride))
    times["prepare"] = time.perf_counter() - t0
    model = build_tiny_model(work / "tiny", max_pixels=p.pixels, seed=p.seed, **p.model)
    t0 = time.perf_counter()
    train(TrainOptions(model=str(model), data=str(work / "clips"), out=str(work / "run"), steps=p.steps, lr=p.lr,
                       warmup=max(1, p.steps // 20), decay=p.steps // 4, batch_size=p.batch_size,
                       lora_r=p.lora_r, lora_alpha=2 * p.lora_r, lora_dropout=0.0, max_pixels=p.pixels, save_every=0,
                       log_every=25, loader_workers=p.loader_workers, gradient_checkpointing=False, seed=p.seed))
    times["train"] = time.perf_counter() - t0
    log = [json.loads(x) for x in (work / "run" / "train_log.jsonl").read_text().splitlines()]
    log = [r for r in log if "loss" in r]
    t0 = time.perf_counter()
    result = evaluate(load_predictor(work / "run", max_new_tokens=160, batch_size=8), work / "clips", "val",
                      limit=p.eval_limit, predictions_out=work / "predictions.jsonl")
    times["eval"] = time.perf_counter() - t0
    own, other = frame_dependence(work / "run", work / "clips")
    return ExperimentResult(result, prep.clips["train"], prep.clips["val"], p.steps, log[0]["loss"], log[-1]["loss"],
                            times, log, own, other)
