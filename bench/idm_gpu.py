"""The IDM GPU check: `python -m bench.idm_gpu` (one GPU, no download, well under 8 minutes on
an H100), or `python -m bench.idm_gpu --shrink` (tiny shape on CPU: what CI runs, so the
script cannot rot between GPU sessions). One table:

1. throughput of a random Qwen3-VL-2B shape at the card's settings (max pixels 524,288, 10
   frames, sequence 8,192, batch 2, LoRA r 256 on both towers, gradient checkpointing, bf16):
   samples/s, tokens/s, MFU (model FLOPs from crowd.idm.flops), peak memory;
2. the real training loop (`crowd.idm.train`) under a one-rank torchrun, so the process group is
   NCCL on a GPU (gloo on CPU), on freshly generated synthetic clips for 50 steps: the loss
   must fall;
3. generation speed of the trained model with the KV cache (new tokens/s, batch 1 and 4).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.table import Table


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _generation(run: Path, windows: int, new_tokens: int) -> list[tuple[int, float]]:
    """(batch, new tokens/s) generating exactly `new_tokens` per window with the KV cache."""
    import numpy as np
    import torch

    from crowd.idm.encode import collate, encode_example, model_inputs
    from crowd.idm.inference import left_pad, load_predictor

    pred = load_predictor(run, max_new_tokens=new_tokens)
    rng = np.random.default_rng(0)
    out = []
    for batch in (1, windows):
        frames = [[rng.integers(0, 255, (224, 320, 3), dtype=np.uint8) for _ in range(pred.window)]
                  for _ in range(batch)]
        b = collate([encode_example(pred.proc, f, None, pred.fps) for f in frames], pred.proc.tokenizer.pad_token_id,
                    pred.model.config.image_token_id)
        b.pop("labels")
        b = model_inputs(left_pad(b) if batch > 1 else b, pred.proc, pred.device)
        for timed in (False, True):   # the first call warms up kernels and allocator
            if pred.device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            with torch.no_grad():
                pred.model.generate(**b, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                                    use_cache=True, pad_token_id=pred.proc.tokenizer.pad_token_id)
            if pred.device.type == "cuda":
                torch.cuda.synchronize()
            if timed:
                out.append((batch, batch * new_tokens / (time.perf_counter() - t0)))
    return out


def check(work: Path, shrink: bool) -> tuple[Table, bool]:
    from crowd.idm import synth
    from crowd.idm.options import PrepareOptions
    from crowd.idm.prepare import prepare
    from crowd.idm.throughput import measure
    from crowd.idm.tiny import build_tiny_model

    preset = "tiny" if shrink else "2b"
    rows: list[list[object]] = []
    t0 = time.perf_counter()
    if shrink:
        t = measure("tiny", max_pixels=128 * 96, seq_len=400, batch=2, steps=2, warmup=1, lora_r=8, lora_alpha=16)
    else:
        t = measure("2b", max_pixels=524_288, seq_len=8192, batch=2, steps=10, warmup=3)
    rows.append(["throughput, card settings" if not shrink else "throughput (shrunken)", t.device,
                 f"{t.samples_per_s:.2f} samples/s, {t.tokens_per_s:,.0f} tokens/s ({t.tokens_per_sample} per sample)",
                 f"MFU {t.mfu:.1%}" if t.mfu is not None else "MFU n/a (no GPU peak)",
                 f"{t.peak_mem_gib:.1f} GiB peak" if t.peak_mem_gib is not None else "n/a",
                 f"{time.perf_counter() - t0:.0f} s"])

    t0 = time.perf_counter()
    pixels = 128 * 96 if shrink else 524_288
    synth.generate(work / "rec", sessions=3, seconds=20 if shrink else 40, seed=1)
    prepare(work / "rec", work / "clips", PrepareOptions(max_pixels=pixels, keep_empty=0.5, val_fraction=0.34, workers=2))
    model = build_tiny_model(work / "model", preset=preset, max_pixels=pixels)
    steps = 12 if shrink else 50
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "1", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), "-m", "crowd.idm.train", "--model", str(model), "--data",
           str(work / "clips"), "--out", str(work / "run"), "--steps", str(steps), "--lr", "1e-3" if shrink else "2e-4",
           "--warmup", "2", "--decay", str(steps // 4), "--batch-size", "2", "--log-every", "2",
           "--save-every", "0", "--max-pixels", str(pixels), "--loader-workers", "2",
           "--val-every", str(steps), "--val-limit", "4"]
    if shrink:
        cmd += ["--lora-r", "8", "--lora-alpha", "16"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=420)
    if proc.returncode != 0:
        raise RuntimeError(f"one-rank torchrun training failed:\n{proc.stderr[-3000:]}")
    log = [json.loads(x) for x in (work / "run" / "train_log.jsonl").read_text().splitlines()]
    train = [r for r in log if "loss" in r]
    val = [r for r in log if "val_loss" in r]
    first = sum(r["loss"] for r in train[:2]) / 2
    last = sum(r["loss"] for r in train[-2:]) / 2
    import torch

    backend = "NCCL" if torch.cuda.is_available() else "gloo"
    rows.append([f"training loop, torchrun 1 rank ({backend})", t.device,
                 f"{steps} steps: loss {first:.2f} -> {last:.2f} ({'falls' if last < first else 'DOES NOT FALL'}), "
                 f"val loss {val[-1]['val_loss']:.2f}" if val else "", 
                 f"MFU {train[-1]['mfu']:.1%}" if "mfu" in train[-1] else "MFU n/a",
                 f"{train[-1]['peak_mem_gib']:.1f} GiB peak" if "peak_mem_gib" in train[-1] else "n/a",
                 f"{time.perf_counter() - t0:.0f} s"])

    t0 = time.perf_counter()
    gen = _generation(work / "run", windows=4, new_tokens=16 if shrink else 64)
    rows.append(["generation with KV cache", t.device,
                 ", ".join(f"batch {b}: {tps:,.1f} new tokens/s" for b, tps in gen), "", "",
                 f"{time.perf_counter() - t0:.0f} s"])
    return Table(f"IDM GPU check ({preset} shape{', shrunken for CPU' if shrink else ''})",
                 ["check", "device", "result", "MFU", "memory", "wall"], rows,
                 ["MFU counts both towers and attention (crowd.idm.flops), recomputation not credited",
                  "training rows fail loudly (non-zero exit) when the loop breaks; the loss must fall"]), last < first


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.idm_gpu", description=__doc__.splitlines()[0])
    p.add_argument("--shrink", action="store_true", help="tiny shape on CPU (CI)")
    a = p.parse_args(argv)
    import torch

    if not a.shrink and not torch.cuda.is_available():
        print("no CUDA device: run with --shrink for the CPU version", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="idm-gpu-check-") as tmp:
        table, falls = check(Path(tmp), a.shrink)
    print(table.render())
    return 0 if falls else 1


if __name__ == "__main__":
    raise SystemExit(main())
