"""IDM benchmarks: does a small Qwen3-VL trained for minutes on CPU read the frames (the
learning bar of crowd.idm.experiment: own-frames loss clearly below other-frames loss, and per
type F1 above the best frame-blind answer, not only above always-[]) on held-out synthetic
sessions; clip storage cost; CPU training throughput. The GPU figures are bench/idm_gpu.py's.

Everything runs for real: synthetic crowd-cast recordings ("marks" scene: each action type
fills its own quadrant, one token of a 64x64 frame, on the frame after it) -> prepare -> a
full fine-tune of the tiny preset -> windowed generation -> optimal matching. Torch is single-threaded on CPU (the machine is
shared; OpenMP spinning under contention costs ~20x).
"""
from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

from bench.table import Table


def _storage_table(clips_dir: Path) -> Table:
    import numpy as np

    from crowd.idm.frames import read_clip
    from crowd.idm.prepare import load_clips

    records = load_clips(clips_dir, "train")[:40]
    webp = raw = npz = 0
    t0 = time.perf_counter()
    decoded = 0
    for r in records:
        path = clips_dir / r["clip"]
        frames = read_clip(path, r["fps"], r["n_frames"])
        decoded += len(frames)
        webp += path.stat().st_size
        arr = np.stack(frames)
        raw += arr.nbytes
        buf = io.BytesIO()
        np.savez_compressed(buf, frames=arr)
        npz += buf.getbuffer().nbytes
    dt = time.perf_counter() - t0
    n = max(1, len(records))
    return Table("IDM clip storage (synthetic 64x64 frames, 10-frame clips)", ["format", "KiB per clip", "vs raw"], [
        ["raw uint8", raw / n / 1024, 1.0],
        ["npz (deflate)", npz / n / 1024, npz / raw],
        ["lossless animated WebP (used)", webp / n / 1024, webp / raw],
    ], [f"WebP decode: {decoded / dt:,.0f} frames/s on this CPU ({len(records)} clips)"])


def _quality(name: str, x) -> Table:
    from crowd.idm.experiment import MARGIN, learning_bar
    from crowd.idm.prompt import ACTION_TYPES

    m, b, blind = x.result["model"], x.result["baseline_empty"], x.result["baseline_blind"]
    rows = [[t, m[t]["tp"] + m[t]["fn"], m[t]["precision"], m[t]["recall"], m[t]["f1"], b[t]["f1"],
             blind[t]["f1"] if t in blind else "", _blind_text(blind[t]) if t in blind else ""] for t in (*ACTION_TYPES, "overall")]
    sec = x.seconds
    bar = learning_bar(x)
    return Table(f"IDM: small Qwen3-VL trained on CPU vs always-[] and the best frame-blind answer, {name}",
                 ["type", "support", "precision", "recall", "F1", "F1 always []", "F1 best frame-blind",
                  "frame-blind answer"], rows, [
                     f"frame dependence: answer loss {x.loss_own_frames:.3f} with each clip's own frames vs "
                     f"{x.loss_other_frames:.3f} with another clip's (bar: at least {MARGIN:.0%} lower)",
                     "learning bar: " + ", ".join(f"{k} {'PASS' if v else 'FAIL'}" for k, v in bar.items()),
                     f"{x.train_clips} train / {x.val_clips} val clips (F1 over {x.result['clips']} val clips: 25 frames, 4 windows, stride 5, "
                     f"frames 2..6 scored), split by session; {x.steps} steps, {sec['train']:.0f} s training",
                     f"MouseMove R^2 {m['MouseMove']['r2']:.3f}, cosine {m['MouseMove']['cosine']:.3f} over all true "
                     f"moves (a miss scores 0), {m['MouseMove']['cosine_matched']:.3f} over matched moves",
                     f"loss {x.first_loss:.2f} -> {x.last_loss:.2f}; synth {sec['synth']:.0f} s, "
                     f"prepare {sec['prepare']:.0f} s, eval {sec['eval']:.0f} s; shared 2-core machine, times are noisy"])


def _blind_text(b: dict) -> str:
    if not b["frames"]:
        return "[]"
    return f"{b['details']} at " + ",".join(f"F{f:02d}" for f in b["frames"])


def plans(quick: bool):
    """The bench's plan (at most ~15 CPU-minutes on the 2-core machine) and its quick version."""
    from crowd.idm.experiment import Plan

    if quick:
        return [("marks scene, quick", Plan(sessions=16, steps=200, eval_limit=24))]
    return [("marks scene (keys, shift, clicks, moves, scrolls; about half the clips empty)", Plan(eval_limit=48))]


def run(quick: bool = False) -> list[Table]:
    import torch

    from crowd.idm.experiment import run_synthetic

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    tables: list[Table] = []
    try:
        for name, plan in plans(quick):
            with tempfile.TemporaryDirectory(prefix="bench-idm-") as tmp:
                x = run_synthetic(tmp, plan)
                tables.append(_quality(name, x))
                storage = _storage_table(Path(tmp) / "clips")
    finally:
        torch.set_num_threads(threads)
    tput = [r for r in x.log if r["step"] > 1]
    sps = sum(r["samples_per_s"] for r in tput) / max(1, len(tput))
    tps = sum(r["tokens_per_s"] for r in tput) / max(1, len(tput))
    cpu = Table("IDM training throughput (CPU, 1 thread, tiny preset, 10 frames of 64x64, full fine-tune)",
                ["device", "samples/s", "tokens/s", "model GFLOP/s", "MFU"],
                [["CPU", sps, tps, sum(r.get("model_tflops_per_s", 0) for r in tput) / max(1, len(tput)) * 1e3, "n/a"]],
                ["GPU figures (2B shape at the card's settings, one-rank NCCL training, generation): "
                 "`python -m bench.idm_gpu` (its CPU-shrunk run is tests/idm/test_gpu_check.py)"])
    tables += [cpu, storage]
    return tables
