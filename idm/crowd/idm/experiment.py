"""The synthetic learning experiment shared by bench/bench_idm.py and its shorter test:
synthetic recordings -> prepare -> tiny Qwen3-VL LoRA training on CPU -> eval on held-out
sessions, against the always-[] baseline."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

PIXELS = 128 * 96


@dataclass
class ExperimentResult:
    result: dict               # evaluate()'s output: model and baseline summaries
    train_clips: int
    val_clips: int
    steps: int
    first_loss: float
    last_loss: float
    seconds: dict              # phase -> wall seconds
    log: list
    loss_own_frames: float = float("nan")      # answer loss given the clip's own frames
    loss_other_frames: float = float("nan")    # ... given another clip's frames: equal means frames are ignored


def frame_dependence(run_dir: str | Path, data_dir: str | Path, n: int = 24) -> tuple[float, float]:
    """Mean answer loss on val clips with their own frames vs with the next clip's frames.

    A model that reads the frames does worse on someone else's frames; one that answers from a
    prior over action text scores the same on both. This is how the benchmark tells them apart.
    """
    import torch

    from crowd.idm.encode import collate, encode_example, model_inputs
    from crowd.idm.frames import read_clip
    from crowd.idm.inference import load_predictor
    from crowd.idm.prepare import clip_actions, load_clips

    pred = load_predictor(run_dir)
    records = load_clips(data_dir, "val")[:n]
    frames = [read_clip(Path(data_dir) / r["clip"], r["fps"], r["n_frames"])[: pred.window] for r in records]
    answers = [sorted((a.type, a.details) for a in clip_actions(r) if a.frame < pred.window) for r in records]
    own = other = 0.0
    for i, r in enumerate(records):
        # the "other" frames come from the next clip whose answer differs, so reading them must hurt
        j = next((k % len(records) for k in range(i + 1, i + len(records)) if answers[k % len(records)] != answers[i]), i)
        acts = [a for a in clip_actions(r) if a.frame < pred.window]
        for src, which in ((i, "own"), (j, "other")):
            ex = encode_example(pred.proc, frames[src], acts, r["fps"])
            batch = collate([ex], pred.proc.tokenizer.pad_token_id, pred.model.config.image_token_id)
            with torch.no_grad():
                loss = float(pred.model(**model_inputs(batch, pred.proc, pred.device)).loss)
            if which == "own":
                own += loss
            else:
                other += loss
    k = max(1, len(records))
    return own / k, other / k


def run_synthetic(work: str | Path, sessions: int = 16, seconds: float = 60.0, steps: int = 600, lr: float = 3e-3,
                  batch_size: int = 4, seed: int = 7, loader_workers: int = 1, eval_limit: int | None = None,
                  weights: dict[str, float] | None = None) -> ExperimentResult:
    from crowd.idm import synth
    from crowd.idm.evaluate import evaluate
    from crowd.idm.inference import load_predictor
    from crowd.idm.options import PrepareOptions, TrainOptions
    from crowd.idm.prepare import prepare
    from crowd.idm.tiny import build_tiny_model
    from crowd.idm.train import train

    work = Path(work)
    times = {}
    t0 = time.perf_counter()
    synth.generate(work / "rec", sessions=sessions, seconds=seconds, seed=seed, weights=weights)
    times["synth"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    prep = prepare(work / "rec", work / "clips", PrepareOptions(max_pixels=PIXELS, keep_empty=0.3, val_fraction=0.25,
                                                               workers=2, seed=seed))
    times["prepare"] = time.perf_counter() - t0
    model = build_tiny_model(work / "tiny", max_pixels=PIXELS, seed=seed)
    t0 = time.perf_counter()
    train(TrainOptions(model=str(model), data=str(work / "clips"), out=str(work / "run"), steps=steps, lr=lr,
                       warmup=max(1, steps // 20), decay=steps // 4, batch_size=batch_size, lora_r=64, lora_alpha=128,
                       lora_dropout=0.0, max_pixels=PIXELS, save_every=0, log_every=25, loader_workers=loader_workers,
                       gradient_checkpointing=False, seed=seed))
    times["train"] = time.perf_counter() - t0
    log = [json.loads(x) for x in (work / "run" / "train_log.jsonl").read_text().splitlines()]
    t0 = time.perf_counter()
    result = evaluate(load_predictor(work / "run", max_new_tokens=160, batch_size=8), work / "clips", "val",
                      limit=eval_limit, predictions_out=work / "predictions.jsonl")
    times["eval"] = time.perf_counter() - t0
    own, other = frame_dependence(work / "run", work / "clips")
    return ExperimentResult(result, prep.clips["train"], prep.clips["val"], steps, log[0]["loss"], log[-1]["loss"],
                            times, log, own, other)
