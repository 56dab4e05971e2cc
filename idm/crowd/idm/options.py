"""Options of prepare and train, kept free of heavy imports so the CLI can register them on
the light install (numpy, torch and av are imported only when a command runs)."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, fields


@dataclass
class PrepareOptions:
    fps: float = 5.0
    window: int = 10            # frames per training clip
    stride: int = 10            # frames between training clip starts
    val_window: int = 25        # evaluation clips: 25 frames, scored with 4 overlapping windows
    val_stride: int = 25
    val_fraction: float = 0.1
    keep_empty: float = 0.1     # probability of keeping a clip without actions
    max_pixels: int = 524_288
    held: str = "events"
    seed: int = 0
    workers: int = 0            # 0: one per CPU


@dataclass
class TrainOptions:
    model: str
    data: str
    out: str
    steps: int = 5000
    lr: float = 2e-5
    warmup: int = 500
    decay: int = 1333
    final_lr_ratio: float = 0.1
    batch_size: int = 2            # per process
    grad_accum: int = 1
    lora_r: int = 256              # 0: full fine-tune (no adapters)
    lora_alpha: int = 512
    lora_dropout: float = 0.05
    vision_lora: bool = True
    max_pixels: int = 524_288
    max_length: int = 8192
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    gradient_checkpointing: bool = True
    save_every: int = 500
    keep_checkpoints: int = 2
    log_every: int = 10
    seed: int = 0
    loader_workers: int = 2
    loss_only_logits: bool = True     # output head on the answer positions only (loss.py)
    attn_implementation: str = "auto"  # auto: flash_attention_2 when installed (CUDA), else sdpa; or eager
    val_every: int = 0                # steps between validation losses (0: none)
    val_limit: int = 64               # val clips per validation
    dump_rank_weights: bool = False   # diagnostic: each rank writes its LoRA weights (DDP test)


def train_options_from_args(args: argparse.Namespace) -> TrainOptions:
    return TrainOptions(**{f.name: getattr(args, f.name) for f in fields(TrainOptions) if hasattr(args, f.name)})


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    d = TrainOptions("", "", "")
    p.add_argument("--model", required=True, help="Qwen3-VL folder or hub id (any size)")
    p.add_argument("--data", required=True, help="folder written by `crowd idm prepare`")
    p.add_argument("--out", required=True, help="output folder (resumes from its latest checkpoint)")
    for f in fields(TrainOptions):
        if f.name in ("model", "data", "out"):
            continue
        default = getattr(d, f.name)
        flag = "--" + f.name.replace("_", "-")
        if isinstance(default, bool):
            p.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=default)
        else:
            p.add_argument(flag, dest=f.name, type=type(default), default=default)


