"""IDM benchmarks: does a tiny Qwen3-VL trained for minutes on CPU beat the always-[] baseline
on held-out synthetic sessions; clip storage cost; CPU training throughput; and, only where a
GPU exists, the 2B-shaped throughput at the recipe's settings.

Everything runs for real: synthetic crowd-cast recordings -> prepare -> LoRA training ->
windowed generation -> optimal matching. Torch is single-threaded on CPU (the machine is
shared; OpenMP spinning under contention costs ~20x).
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import time
from pathlib import Path

from bench.table import Table

PIXELS = 128 * 96


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
        frames = read_clip(path, r["fps"])
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


def run(quick: bool = False) -> list[Table]:
    import torch

    from crowd.idm import synth
    from crowd.idm.evaluate import evaluate
    from crowd.idm.inference import load_predictor
    from crowd.idm.metrics import TypeCounts  # noqa: F401 - documents where the numbers come from
    from crowd.idm.options import PrepareOptions, TrainOptions
    from crowd.idm.prepare import prepare
    from crowd.idm.prompt import ACTION_TYPES
    from crowd.idm.tiny import build_tiny_model
    from crowd.idm.train import train

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    sessions, seconds, steps = (8, 40, 150) if quick else (16, 60, 600)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-idm-") as tmp:
            tmp = Path(tmp)
            t0 = time.perf_counter()
            synth.generate(tmp / "rec", sessions=sessions, seconds=seconds, seed=7)
            t_synth = time.perf_counter() - t0
            t0 = time.perf_counter()
            prep = prepare(tmp / "rec", tmp / "clips", PrepareOptions(max_pixels=PIXELS, keep_empty=0.1, val_fraction=0.25, workers=2))
            t_prep = time.perf_counter() - t0
            model = build_tiny_model(tmp / "tiny", max_pixels=PIXELS)
            opts = TrainOptions(model=str(model), data=str(tmp / "clips"), out=str(tmp / "run"), steps=steps, lr=2e-3,
                                warmup=max(1, steps // 20), decay=steps // 4, batch_size=4, lora_r=64, lora_alpha=128,
                                lora_dropout=0.0, max_pixels=PIXELS, save_every=0, log_every=25, loader_workers=1,
                                gradient_checkpointing=False)
            t0 = time.perf_counter()
            train(opts)
            t_train = time.perf_counter() - t0
            log = [json.loads(x) for x in (tmp / "run" / "train_log.jsonl").read_text().splitlines()]
            t0 = time.perf_counter()
            result = evaluate(load_predictor(tmp / "run", max_new_tokens=160, batch_size=8), tmp / "clips", "val")
            t_eval = time.perf_counter() - t0
            storage = _storage_table(tmp / "clips")
    finally:
        torch.set_num_threads(threads)

    m, b = result["model"], result["baseline_empty"]
    rows = [[t, m[t]["tp"] + m[t]["fn"], m[t]["precision"], m[t]["recall"], m[t]["f1"], b[t]["f1"]]
            for t in (*ACTION_TYPES, "overall")]
    quality = Table("IDM: tiny Qwen3-VL (LoRA, CPU) vs always-[] on held-out synthetic sessions",
                    ["type", "support", "precision", "recall", "F1", "F1 always []"], rows, [
                        f"{prep.clips['train']} train / {prep.clips['val']} val clips (25 frames, 4 windows, stride 5, "
                        f"frames 2..6 scored), split by session; {steps} steps x batch 4, {t_train:.0f} s training",
                        f"MouseMove R^2 {m['MouseMove']['r2']:.3f}, cosine {m['MouseMove']['cosine']:.3f} "
                        "(missed frames count as zero)",
                        f"loss {log[0]['loss']:.2f} -> {log[-1]['loss']:.2f}; synth {t_synth:.0f} s, prepare {t_prep:.0f} s, "
                        f"eval {t_eval:.0f} s"])
    tput = [r for r in log if r["step"] > 1]
    sps = sum(r["samples_per_s"] for r in tput) / max(1, len(tput))
    tps = sum(r["tokens_per_s"] for r in tput) / max(1, len(tput))
    cpu = Table("IDM training throughput (CPU, 1 thread, tiny model, 10 frames of 128x96)",
                ["device", "samples/s", "tokens/s", "MFU", "peak memory"],
                [["CPU", sps, tps, "n/a", "n/a"]],
                ["GPU figures (2B-shaped model, max pixels 524,288, sequence 8,192, batch 2): not measured, "
                 "no GPU in this session" if not torch.cuda.is_available() else "see the GPU table"])
    tables = [quality, cpu, storage]
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
