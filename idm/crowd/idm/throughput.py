"""Training throughput of a randomly initialised Qwen3-VL at the recipe's settings.

Synthetic frames (random pixels, so no data loading is measured) at `max_pixels` each, one
10-frame window per sample (capped to fit `seq_len` tokens), per-device batch `batch`, LoRA r 256 / alpha 512 on both
towers, gradient checkpointing, AdamW; bf16 autocast on CUDA. Reports samples/s, tokens/s,
MFU (model FLOPs from flops.py: both towers and attention, over the device's bf16 peak) and peak
memory. Loss-only logits and the patch embedding as a matmul, as in training.
Runs on CPU too (tiny preset) so the code path is tested where no GPU exists.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass
class Throughput:
    device: str
    params: int
    trainable: int
    tokens_per_sample: int
    samples_per_s: float
    tokens_per_s: float
    mfu: float | None
    peak_mem_gib: float | None
    step_tflops: float = 0.0   # model FLOPs of one step (flops.py), vision and attention included


def measure(preset: str = "2b", max_pixels: int = 524_288, seq_len: int = 8192, batch: int = 2, steps: int = 8,
            warmup: int = 2, lora_r: int = 256, lora_alpha: int = 512, frame_size: tuple[int, int] | None = None,
            frames_per_sample: int = 10, attn: str = "auto") -> Throughput:
    import torch

    from crowd.idm.encode import collate, encode_example, model_inputs
    from crowd.idm.frames import fit_size
    from crowd.idm.modeling import add_lora
    from crowd.idm.prompt import Action
    from crowd.idm.flops import step_flops
    from crowd.idm.loss import answer_loss, answer_positions
    from crowd.idm.modeling import attention_implementation, use_patch_matmul
    from crowd.idm.train import _peak_flops

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    from transformers import Qwen3VLForConditionalGeneration

    from crowd.idm.encode import Processing
    from crowd.idm.tiny import build_config, build_image_processor, build_tokenizer

    torch.manual_seed(0)
    tokenizer = build_tokenizer()
    proc = Processing(tokenizer, build_image_processor(max_pixels=max_pixels))
    config = build_config(preset, tokenizer)
    with device:  # random init straight on the device, in bf16 on CUDA (a 2B model never touches disk)
        base = Qwen3VLForConditionalGeneration._from_config(config, dtype=torch.bfloat16 if cuda else torch.float32,
                                                            attn_implementation=attention_implementation(attn))
    use_patch_matmul(base)
    if hasattr(base, "activation_checkpointing_enable"):
        base.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model = add_lora(base, lora_r, lora_alpha, 0.05).to(device)
    w, h = frame_size or fit_size(1920, 1080, max_pixels)
    per_frame = (w // 32) * (h // 32)
    n_frames = max(1, min(frames_per_sample, (seq_len - 256) // (per_frame + 8)))
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for _ in range(n_frames)]
    ex = encode_example(proc, frames, [Action(1, "MouseClick", "Left")], 5.0)
    b = collate([ex] * batch, proc.tokenizer.pad_token_id, base.config.image_token_id)
    flops = step_flops(config, b["attention_mask"].sum(dim=1).tolist(), [tuple(g) for g in b["image_grid_thw"].tolist()],
                       len(answer_positions(b["labels"])) * batch, lora_r=lora_r).total
    b = model_inputs(b, proc, device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=2e-5)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = 0.0
    for i in range(warmup + steps):
        if i == warmup:
            if cuda:
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            loss = answer_loss(model, b)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    if cuda:
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    tokens = int(b["attention_mask"].sum()) * steps
    peak = _peak_flops(device)
    tps = tokens / dt
    return Throughput(
        device=torch.cuda.get_device_name(device) if cuda else "cpu",
        params=sum(p.numel() for p in model.parameters()), trainable=sum(p.numel() for p in params),
        tokens_per_sample=int(b["attention_mask"][0].sum()), samples_per_s=batch * steps / dt, tokens_per_s=tps,
        mfu=flops * steps / dt / peak if peak else None, step_tflops=flops / 1e12,
        peak_mem_gib=torch.cuda.max_memory_allocated(device) / 2**30 if cuda else None)


def main() -> int:
    import argparse
    import json
    from dataclasses import asdict

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="2b")
    p.add_argument("--max-pixels", type=int, default=524_288)
    p.add_argument("--seq-len", type=int, default=8192)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--steps", type=int, default=8)
    a = p.parse_args()
    print(json.dumps(asdict(measure(a.preset, a.max_pixels, a.seq_len, a.batch, a.steps))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
