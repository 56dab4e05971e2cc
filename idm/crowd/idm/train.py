"""LoRA training of Qwen3-VL as an inverse dynamics model, single process or torchrun DDP.

Run directly (`crowd idm train ...`) for one process, or under torchrun for data parallel
training across GPUs and nodes (`torchrun --nnodes N --nproc_per_node 8 -m crowd.idm.train
...`): the process group comes from torchrun's environment (NCCL on CUDA, gloo on CPU, which
is how the tests prove gradient synchronisation without a GPU).

Output folder: the final adapter with the tokenizer and image-processor files next to it (so
it loads like a model folder), crowd_idm_train.json (base model, clip format, options),
train_log.jsonl (loss, lr, throughput), and checkpoints/step_NNNNNN/ for resume.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from crowd.idm.clip_index import ClipIndex
from crowd.idm.distributed import dist_env, init_distributed, reduce_sums
from crowd.idm.encode import collate, encode_example, load_processing, model_inputs
from crowd.idm.flops import step_flops
from crowd.idm.loss import answer_loss, answer_positions
from crowd.idm.frames import read_clip
from crowd.idm.modeling import add_lora, load_base
from crowd.idm.prepare import clip_actions
from crowd.idm.options import TrainOptions, add_train_arguments, train_options_from_args
from crowd.idm.schedule import wsd_factor

log = logging.getLogger(__name__)

PEAK_TFLOPS_BF16 = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L40S": 362.0}
PROCESSING_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "preprocessor_config.json",
                    "chat_template.jinja", "generation_config.json", "vocab.json", "merges.txt")


class ClipDataset:
    """Prepared clips -> encoded examples (decoded in loader workers)."""

    def __init__(self, data_dir: str, split: str, proc: Any, max_length: int) -> None:
        self.dir = Path(data_dir)
        self.records = ClipIndex(data_dir, split)   # memory-mapped, shared by the loader processes
        if not len(self.records):
            raise ValueError(f"no {split} clips in {data_dir}")
        self.proc, self.max_length = proc, max_length

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> dict:
        r = self.records[i]
        frames = read_clip(self.dir / r["clip"], r["fps"], r["n_frames"])
        return encode_example(self.proc, frames, clip_actions(r), r["fps"], self.max_length)


def train_window(data_dir: str | Path) -> int:
    """The training window prepare used (a segment's short tail clip may come first in the index)."""
    prep = Path(data_dir) / "prepare.json"
    if prep.exists():
        return int(json.loads(prep.read_text())["options"]["window"])
    return int(ClipIndex(data_dir, "train")[0]["n_frames"])


class StepBatches:
    """Batch sampler: the index lists of each rank for steps `start`..`total`.

    Every epoch is a seeded permutation sharded rank::world, so a resumed run continues with
    exactly the batches the interrupted run would have seen next.
    """

    def __init__(self, n: int, batch: int, rank: int, world: int, seed: int, start: int, total: int) -> None:
        self.n, self.batch, self.rank, self.world = n, batch, rank, world
        self.seed, self.start, self.total = seed, start, total

    def _epoch(self, e: int) -> list[int]:
        import torch

        g = torch.Generator().manual_seed(self.seed * 1_000_003 + e)
        perm = torch.randperm(self.n, generator=g).tolist()
        while len(perm) < self.world:
            perm += perm
        return perm[self.rank::self.world][: len(perm) // self.world]

    def __len__(self) -> int:
        return max(0, self.total - self.start)

    def __iter__(self):
        shard_len = len(self._epoch(0))
        cache: dict[int, list[int]] = {}
        for step in range(self.start, self.total):
            out = []
            for k in range(step * self.batch, (step + 1) * self.batch):
                e = k // shard_len
                if e not in cache:
                    cache.clear()
                    cache[e] = self._epoch(e)
                out.append(cache[e][k % shard_len])
            yield out


def latest_checkpoint(out: Path) -> Path | None:
    cks = sorted((out / "checkpoints").glob("step_*")) if (out / "checkpoints").is_dir() else []
    cks = [c for c in cks if (c / "trainer.pt").exists()]
    return cks[-1] if cks else None


def lora_state(model: Any) -> dict:
    from peft import get_peft_model_state_dict

    return {k: v.detach().cpu().clone() for k, v in get_peft_model_state_dict(model).items()}


def _peak_flops(device: Any) -> float | None:
    import torch

    if device.type != "cuda":
        return None
    if os.environ.get("CROWD_PEAK_TFLOPS"):
        return float(os.environ["CROWD_PEAK_TFLOPS"]) * 1e12
    name = torch.cuda.get_device_name(device)
    return next((v * 1e12 for k, v in PEAK_TFLOPS_BF16.items() if k in name), None)


def train(o: TrainOptions) -> dict:
    """Trains and returns the last logged metrics (rank 0's view)."""
    import torch

    rank, world, local = dist_env()
    cuda = torch.cuda.is_available()
    distributed = init_distributed(cuda, local)
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    torch.manual_seed(o.seed)
    out = Path(o.out)
    out.mkdir(parents=True, exist_ok=True)

    proc = load_processing(o.model, max_pixels=o.max_pixels)
    base = load_base(o.model, dtype=torch.bfloat16 if cuda else torch.float32, attn=o.attn_implementation)
    image_token_id = base.config.image_token_id
    if o.gradient_checkpointing:
        if hasattr(base, "activation_checkpointing_enable"):  # transformers >= 5.2 name
            base.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        base.config.use_cache = False
    # lora_r 0: full fine-tune (the CPU-scale model: a small random model has nothing to adapt)
    model = (add_lora(base, o.lora_r, o.lora_alpha, o.lora_dropout, vision=o.vision_lora) if o.lora_r else base).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay, betas=(0.9, 0.999))
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: wsd_factor(s, o.steps, o.warmup, o.decay, o.final_lr_ratio))

    start = 0
    ck = latest_checkpoint(out)
    if ck is not None:
        start = _load_checkpoint(ck, model, optim, sched)
        if rank == 0:
            log.info("resuming from %s at step %d", ck, start)
    ddp = model
    if distributed:
        from torch.nn.parallel import DistributedDataParallel

        ddp = DistributedDataParallel(model, device_ids=[local] if cuda else None)

    dataset = ClipDataset(o.data, "train", proc, o.max_length)
    micro = StepBatches(len(dataset), o.batch_size, rank, world, o.seed, start * o.grad_accum, o.steps * o.grad_accum)
    loader = torch.utils.data.DataLoader(
        dataset, batch_sampler=micro, num_workers=o.loader_workers,
        collate_fn=functools.partial(collate, pad_id=proc.tokenizer.pad_token_id, image_token_id=image_token_id),
        persistent_workers=False, multiprocessing_context="spawn" if o.loader_workers else None)
    if rank == 0:
        _write_info(out, o, dataset)
    peak = _peak_flops(device)
    log_path = out / "train_log.jsonl"
    validation = _Validation(o, proc, image_token_id) if o.val_every and rank == 0 else None
    ddp.train()
    step, micro_i, last = start, 0, {}
    window = [0.0, 0, 0, 0, 0.0]  # loss sum, tokens, samples, micro-batches, model FLOPs since the last line
    t0 = time.perf_counter()
    for batch in loader:
        flops = _batch_flops(base.config, batch, o)
        batch = model_inputs(batch, proc, device)
        sync = (micro_i + 1) % o.grad_accum == 0
        ctx = ddp.no_sync() if (distributed and not sync) else contextlib.nullcontext()
        with ctx, torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            loss = answer_loss(ddp, batch) if o.loss_only_logits else ddp(**batch).loss
            (loss / o.grad_accum).backward()
        window[0] += float(loss.detach())
        window[1] += int(batch["attention_mask"].sum())
        window[2] += int(batch["input_ids"].shape[0])
        window[3] += 1
        window[4] += flops
        micro_i += 1
        if not sync:
            continue
        torch.nn.utils.clip_grad_norm_(params, o.max_grad_norm)
        optim.step()
        sched.step()
        optim.zero_grad(set_to_none=True)
        step += 1
        if step % o.log_every == 0 or step == o.steps or step == start + 1:
            last = _log(step, window, sched, t0, world, device, peak, log_path, rank)
            window, t0 = [0.0, 0, 0, 0, 0.0], time.perf_counter()
        if validation is not None and (step % o.val_every == 0 or step == o.steps):
            last = {**last, **validation.run(model, step, device, cuda, log_path)}
            ddp.train()
            t0 = time.perf_counter()  # validation time is not training throughput
        if (o.save_every and step % o.save_every == 0) or step == o.steps:
            _save_checkpoint(out, step, model, optim, sched, rank, o.keep_checkpoints)
    _finish(out, o, model, rank)
    return last


def _batch_flops(config: Any, batch: dict, o: TrainOptions) -> float:
    """Model FLOPs of one micro-batch (flops.py), over its real (unpadded) token counts."""
    logits = len(answer_positions(batch["labels"])) * batch["labels"].shape[0] if o.loss_only_logits else int(
        batch["attention_mask"].sum())
    return step_flops(config, batch["attention_mask"].sum(dim=1).tolist(),
                      [tuple(g) for g in batch["image_grid_thw"].tolist()], logits,
                      lora_r=o.lora_r, vision_lora=o.vision_lora, full=not o.lora_r).total


class _Validation:
    """Periodic validation (`--val-every`): mean answer loss over the first `--val-limit` val
    clips, cut to the training window, so a run shows whether it generalises while it trains.
    Rank 0 only; the other ranks do not wait on it beyond the next collective."""

    def __init__(self, o: TrainOptions, proc: Any, image_token_id: int) -> None:
        self.o, self.proc, self.image_token_id = o, proc, image_token_id
        val = ClipIndex(o.data, "val")
        self.records = [val[i] for i in range(min(o.val_limit, len(val)))]
        self.window = train_window(o.data)

    def run(self, model: Any, step: int, device: Any, cuda: bool, path: Path) -> dict:
        import torch

        model.eval()
        total, n = 0.0, 0
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            for r in self.records:
                frames = read_clip(Path(self.o.data) / r["clip"], r["fps"], r["n_frames"])[: self.window]
                acts = [a for a in clip_actions(r) if a.frame < self.window]
                ex = encode_example(self.proc, frames, acts, r["fps"], self.o.max_length)
                batch = model_inputs(collate([ex], self.proc.tokenizer.pad_token_id, self.image_token_id), self.proc, device)
                total += float(answer_loss(model, batch))
                n += 1
        rec = {"step": step, "val_loss": total / max(1, n), "val_clips": n}
        with open(path, "a") as fh:
            fh.write(json.dumps(rec) + "\n")
        log.info("step %d val loss %.4f (%d clips)", step, rec["val_loss"], n)
        return rec


def _log(step: int, window: list, sched, t0: float, world: int, device, peak, path: Path, rank: int) -> dict:
    """Mean loss since the last line over all ranks, throughput, memory; rank 0 appends the line."""
    import torch

    stats = reduce_sums(window, device).cpu()
    dt = max(1e-9, time.perf_counter() - t0)
    rec = {"step": step, "loss": stats[0].item() / max(1.0, stats[3].item()), "lr": sched.get_last_lr()[0],
           "samples_per_s": stats[2].item() / dt, "tokens_per_s": stats[1].item() / dt, "world": world}
    rec["model_tflops_per_s"] = stats[4].item() / dt / 1e12
    if device.type == "cuda":
        rec["peak_mem_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
        if peak:
            rec["mfu"] = stats[4].item() / dt / (peak * world)
    if rank == 0:
        with open(path, "a") as fh:
            fh.write(json.dumps(rec) + "\n")
        log.info("step %d loss %.4f lr %.2e %.1f samples/s", step, rec["loss"], rec["lr"], rec["samples_per_s"])
    return rec


def _write_info(out: Path, o: TrainOptions, dataset: ClipDataset) -> None:
    prep = Path(o.data) / "prepare.json"
    clip = json.loads(prep.read_text())["options"] if prep.exists() else {}
    r0 = dataset.records[0]
    window = train_window(o.data)
    # A local base is recorded as an absolute path so eval/label/merge work from any directory.
    base = str(Path(o.model).resolve()) if Path(o.model).exists() else o.model
    info = {"base_model": base, "fps": r0["fps"], "window": window, "max_pixels": o.max_pixels,
            "prepare": clip, "options": asdict(o)}
    (out / "crowd_idm_train.json").write_text(json.dumps(info, indent=1))
    for name in PROCESSING_FILES:
        src = Path(o.model) / name
        if src.exists():
            shutil.copy(src, out / name)
    if not (out / "tokenizer_config.json").exists():  # hub id: save what was loaded
        proc = load_processing(o.model, o.max_pixels)
        proc.tokenizer.save_pretrained(out)
        proc.image_processor.save_pretrained(out)


def _save_checkpoint(out: Path, step: int, model, optim, sched, rank: int, keep: int) -> None:
    import torch
    import torch.distributed as dist

    if rank == 0:
        ck = out / "checkpoints" / f"step_{step:06d}"
        tmp = ck.with_name(ck.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        model.save_pretrained(tmp)
        torch.save({"step": step, "optimizer": optim.state_dict(), "scheduler": sched.state_dict(),
                    "rng": torch.get_rng_state()}, tmp / "trainer.pt")
        shutil.rmtree(ck, ignore_errors=True)
        tmp.rename(ck)  # a checkpoint directory exists only once complete
        for old in sorted((out / "checkpoints").glob("step_*"))[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    if dist.is_initialized():
        dist.barrier()


def _load_checkpoint(ck: Path, model, optim, sched) -> int:
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    if (ck / "adapter_model.safetensors").exists():
        set_peft_model_state_dict(model, load_file(str(ck / "adapter_model.safetensors")))
    else:  # full fine-tune: the checkpoint is the whole model
        model.load_state_dict(load_file(str(ck / "model.safetensors")), strict=False)
    state = torch.load(ck / "trainer.pt", map_location="cpu", weights_only=False)
    optim.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"])
    return int(state["step"])


def _finish(out: Path, o: TrainOptions, model, rank: int) -> None:
    import torch
    import torch.distributed as dist

    if o.dump_rank_weights:
        torch.save(lora_state(model), out / f"rank{rank}_lora.pt")
    if rank == 0:
        model.save_pretrained(out)
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="crowd.idm.train", description="LoRA-train a Qwen3-VL IDM (torchrun-ready)")
    add_train_arguments(p)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(json.dumps(train(train_options_from_args(args))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
