"""Frames + actions -> model tensors, with the loss restricted to the assistant's answer.

Built directly on the tokenizer and Qwen2-VL-style image processor instead of
Qwen3VLProcessor: the processor's mandatory video processor needs torchvision, which has no CPU
wheel here, while the image path alone is all an IDM needs (frames are fed as images, each
with its own "Frame Fxx:" label).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crowd.idm.prompt import IM_END, Action, actions_to_text, build_prompt

IGNORE_INDEX = -100


@dataclass
class Processing:
    """Tokenizer and image processor of one model folder."""

    tokenizer: Any
    image_processor: Any

    @property
    def merge(self) -> int:
        return int(self.image_processor.merge_size)


def load_processing(model_dir: str | Path, max_pixels: int | None = None) -> Processing:
    """Loads the tokenizer and the PIL image processor saved with (or for) a Qwen3-VL model."""
    from transformers import AutoTokenizer
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    kwargs = {"max_pixels": max_pixels} if max_pixels else {}
    image_processor = Qwen2VLImageProcessorPil.from_pretrained(str(model_dir), **kwargs)
    return Processing(tokenizer, image_processor)


def encode_images(proc: Processing, frames: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """uint8 pixel patches, per-frame (t, h, w) grids and the number of LLM tokens each frame takes.

    Patches stay uint8 (exact: the processor only reorders pixels, and any resize is done on the
    uint8 image): loader workers hand them through shared memory at a quarter of float32's size
    (112 MiB -> 28 MiB per 2B sample), and `model_inputs` rescales and normalises on the device.
    """
    from PIL import Image

    out = proc.image_processor([Image.fromarray(f) for f in frames], return_tensors="np",
                               do_rescale=False, do_normalize=False)
    grid = np.asarray(out["image_grid_thw"])
    per_frame = [int(t * h * w) // (proc.merge ** 2) for t, h, w in grid]
    return np.asarray(out["pixel_values"]).astype(np.uint8), grid, per_frame


def encode_example(proc: Processing, frames: list[np.ndarray], actions: list[Action] | None, fps: float,
                   max_length: int | None = None) -> dict[str, np.ndarray]:
    """One training (actions given) or inference (actions None) example as numpy arrays.

    labels are IGNORE_INDEX over the prompt so only the answer (and its end token) is learned.
    """
    pixel_values, grid, per_frame = encode_images(proc, frames)
    prompt_ids = proc.tokenizer(build_prompt(len(frames), per_frame, fps), add_special_tokens=False)["input_ids"]
    if actions is None:
        ids, labels = prompt_ids, [IGNORE_INDEX] * len(prompt_ids)
    else:
        answer_ids = proc.tokenizer(actions_to_text(actions) + IM_END + "\n", add_special_tokens=False)["input_ids"]
        ids = prompt_ids + answer_ids
        labels = [IGNORE_INDEX] * len(prompt_ids) + answer_ids
    if max_length is not None and len(ids) > max_length:
        raise ValueError(f"example has {len(ids)} tokens > max length {max_length}; lower --max-pixels or frames")
    return {"input_ids": np.asarray(ids, dtype=np.int64), "labels": np.asarray(labels, dtype=np.int64),
            "pixel_values": pixel_values, "image_grid_thw": grid.astype(np.int64)}


def collate(examples: list[dict[str, np.ndarray]], pad_id: int, image_token_id: int) -> dict[str, Any]:
    """Right-pads token rows and concatenates image patches in the order their pads appear.

    mm_token_type_ids (1 on image tokens) is what Qwen3-VL needs to lay out M-RoPE positions.
    """
    import torch

    width = max(len(e["input_ids"]) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, e in enumerate(examples):
        n = len(e["input_ids"])
        ids[i, :n] = torch.from_numpy(e["input_ids"])
        labels[i, :n] = torch.from_numpy(e["labels"])
        mask[i, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask,
            "mm_token_type_ids": (ids == image_token_id).long(),
            "pixel_values": torch.from_numpy(np.concatenate([e["pixel_values"] for e in examples])),
            "image_grid_thw": torch.from_numpy(np.concatenate([e["image_grid_thw"] for e in examples]))}


def model_inputs(batch: dict[str, Any], proc: Processing, device: Any, dtype: Any = None) -> dict[str, Any]:
    """A collated batch on `device`, uint8 patches rescaled and normalised there (per channel,
    with the image processor's own factors: the same values the processor would have made)."""
    import torch

    ip = proc.image_processor
    out = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
    px = out["pixel_values"]
    if px.dtype == torch.uint8:
        n = px.shape[0]
        mean = torch.tensor(ip.image_mean, device=device, dtype=torch.float32).view(1, -1, 1)
        std = torch.tensor(ip.image_std, device=device, dtype=torch.float32).view(1, -1, 1)
        x = px.view(n, len(ip.image_mean), -1).float() * float(ip.rescale_factor)
        out["pixel_values"] = ((x - mean) / std).view(n, -1).to(dtype or torch.float32)
    return out
