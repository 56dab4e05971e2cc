"""IDM benchmarks: does a tiny Qwen3-VL trained for minutes on CPU beat the always-[] baseline
on held-out synthetic sessions; clip storage cost; CPU training throughput; and, only where a
GPU exists, the 2B-shaped throughput at the recipe's settings.

Everything runs for real: synthetic crowd-cast recordings -> prepare -> LoRA training ->
windowed generation -> optimal matching. Torch is single-threaded on CPU (the machine is
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
    return Table("IDM clip storage (synthetic 128x96 frames, 10-frame clips)", ["format", "KiB per clip", "vs raw"], [
        ["raw uint8", raw / n / 1024, 1.0],
        ["npz (deflate)", npz / n / 1024, npz / raw],
        ["lossless animated WebP (used)", webp / n / 1024, webp / raw],
    ], [f"WebP decode: {decoded / dt:,.0f} frames/s on this CPU ({len(records)} clips)"])


MIXES = {
    "idle + clicks": {"idle": 5, "click": 1},
    "full mix (keys, shift, clicks, moves, scrolls, black frames)": None,
}


def _quality(name: str, x) -> Table:
    from crowd.idm.prompt import ACTION_TYPES

    m, b = x.result["model"], x.result["baseline_empty"]
    rows = [[t, m[t]["tp"] + m[t]["fn"], m[t]["precision"], m[t]["recall"], m[t]["f1"], b[t]["f1"]]
            for t in (*ACTION_TYPES, "overall")]
    sec = x.seconds
    return Table(f"IDM: tiny Qwen3-VL (LoRA, CPU) vs always-[] on held-out synthetic sessions, {name}",
                 ["type", "support", "precision", "recall", "F1", "F1 always []"], rows, [
                     f"{x.train_clips} train / {x.val_clips} val clips (val: 25 frames, 4 windows, stride 5, "
                     f"frames 2..6 scored), split by session; {x.steps} steps x batch 4, {sec['train']:.0f} s training",
                     f"MouseMove R^2 {m['MouseMove']['r2']:.3f}, cosine {m['MouseMove']['cosine']:.3f} "
                     "(missed frames count as zero)",
                     f"frame dependence: answer loss {x.loss_own_frames:.3f} with the clip's own frames vs "
                     f"{x.loss_other_frames:.3f} with another clip's (equal = the frames are not used)",
                     f"loss {x.first_loss:.2f} -> {x.last_loss:.2f}; synth {sec['synth']:.0f} s, "
                     f"prepare {sec['prepare']:.0f} s, eval {sec['eval']:.0f} s"])


def run(quick: bool = False) -> list[Table]:
    import torch

    from crowd.idm.experiment import run_synthetic

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    plans = [("idle + clicks", 8, 40, 160)] if quick else [
        ("idle + clicks", 16, 60, 400), ("full mix (keys, shift, clicks, moves, scrolls, black frames)", 16, 60, 600)]
    tables: list[Table] = []
    try:
        for name, sessions, seconds, steps in plans:
            with tempfile.TemporaryDirectory(prefix="bench-idm-") as tmp:
                x = run_synthetic(tmp, sessions=sessions, seconds=seconds, steps=steps, weights=MIXES[name])
                tables.append(_quality(name, x))
                storage = _storage_table(Path(tmp) / "clips")
    finally:
        torch.set_num_threads(threads)
    tput = [r for r in x.log if r["step"] > 1]
    sps = sum(r["samples_per_s"] for r in tput) / max(1, len(tput))
    tps = sum(r["tokens_per_s"] for r in tput) / max(1, len(tput))
    cpu = Table("IDM training throughput (CPU, 1 thread, tiny model, 10 frames of 128x96)",
                ["device", "samples/s", "tokens/s", "MFU", "peak memory"],
                [["CPU", sps, tps, "n/a", "n/a"]],
                ["GPU figures (2B-shaped model, max pixels 524,288, sequence 8,192, batch 2): not measured, "
                 "no GPU in this session" if not torch.cuda.is_available() else "see the GPU table"])
    tables += [cpu, storage]
    if torch.cuda.is_available():
        from crowd.idm.throughput import measure

        t = measure("2b", max_pixels=524_288, seq_len=8192, batch=2, steps=4 if quick else 10)
        tables.append(Table("IDM training throughput: random Qwen3-VL-2B shape, LoRA r256 both towers, bf16",
                            ["device", "samples/s", "tokens/s", "MFU", "peak memory GiB"],
                            [[t.device, t.samples_per_s, t.tokens_per_s, t.mfu if t.mfu is not None else "n/a",
                              t.peak_mem_gib]],
                            [f"{t.tokens_per_sample} tokens per sample (10 frames at max pixels 524,288), batch 2, "
                             f"gradient checkpointing; {t.params / 1e9:.2f} B parameters, {t.trainable / 1e6:.0f} M trainable"]))
    return tables
